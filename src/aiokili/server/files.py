"""Uploaded files over HTTP: signed URLs and the streamed PUT / GET endpoint (the blobs
are kept by ``store/files.py``, next to the database).

A signed URL names an object key that embeds a server-made nonce, so an upload never
overwrites another upload's object. A URL is bound to its method (PUT or GET) and
expires; GETs are also allowed with the API key (the official SDK sends it for every
URL under ``/api/label/v2``). The signing secret lives in the database, so stored
content URLs survive a restart.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import parse_qs, quote, urlsplit

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from .errors import error_body
from .settings import PREFIX
from .store.db import in_thread

if TYPE_CHECKING:
    from .auth import Authenticator
    from .settings import Settings
    from .store import Store

_WRITE_CHUNK = 1024 * 1024


class Signer:
    """HMAC signatures binding an object key to a method and an expiry time."""

    def __init__(self, secret: bytes, ttl_s: float) -> None:
        self._secret = secret
        self.ttl_s = ttl_s

    def _signature(self, method: str, key: str, expires: str) -> str:
        message = f"{method}\n{key}\n{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:40]

    def url(self, base: str, key: str, method: str = "PUT") -> str:
        """``<base>/api/label/v2/files?path=...&signature=...&id=<key>``."""
        expires = str(int(time.time() + self.ttl_s))
        q = quote(key, safe="")
        return (
            f"{base}{PREFIX}/files?path={q}&method={method}&expires={expires}"
            f"&signature={self._signature(method, key, expires)}&id={q}"
        )

    def upload_url(self, base: str, path: str) -> str:
        """A PUT URL for ``path`` whose object key is new (``uploads/<nonce>/<path>``)."""
        return self.url(base, f"uploads/{secrets.token_hex(8)}/{path}")

    def allows(self, request: Request, key: str) -> bool:
        """Whether the request's signature covers its method, ``key`` and has not expired."""
        params = request.query_params
        method, expires = params.get("method", ""), params.get("expires", "")
        if method != request.method or not expires.isdigit() or int(expires) < time.time():
            return False
        expected = self._signature(method, key, expires)
        return hmac.compare_digest(params.get("signature", ""), expected)

    def download_url(self, base: str, stored: str | None) -> str | None:
        """A fresh GET URL for content that is one of our files (an upload, or tiles made
        from one); anything else as is."""
        key = stored_key(stored)
        return self.url(base, key, "GET") if key else stored


def stored_key(stored: str | None) -> str | None:
    """The object key of a URL of ours (``.../files?path=<key>`` or ``?id=<key>``) naming an
    upload or tiles made from one; None for anything else (hosted URLs, inline JSON)."""
    if not stored or f"{PREFIX}/files?" not in stored:
        return None
    query = parse_qs(urlsplit(stored).query)
    key = (query.get("path") or query.get("id") or [""])[0]
    return key if key.startswith(("uploads/", "tiles/")) else None


def _too_large(cap: int) -> JSONResponse:
    message = f"Upload refused: the body is over the limit of {cap:,} bytes (max_upload_bytes)."
    return JSONResponse(error_body(message, "PAYLOAD_TOO_LARGE"), status_code=413)


async def _receive(request: Request, out: BinaryIO, cap: int) -> bool:
    """Stream the body to ``out``; ``False`` as soon as it goes over ``cap`` bytes."""
    size, buffer = 0, bytearray()
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            return False
        buffer += chunk
        if len(buffer) >= _WRITE_CHUNK:
            await in_thread(out.write, buffer)
            buffer = bytearray()
    if buffer:
        await in_thread(out.write, buffer)
    return True


class FilesEndpoint:
    """``GET|PUT /api/label/v2/files?path=<key>&...``."""

    def __init__(self, store: Store, signer: Signer, auth: Authenticator, settings: Settings):
        self.store, self.signer, self.auth, self.settings = store, signer, auth, settings

    async def __call__(self, request: Request) -> Response:
        key = request.query_params.get("path") or request.query_params.get("id") or ""
        signed = bool(key) and self.signer.allows(request, key)
        if request.method == "PUT":
            if not signed:
                return _forbidden(
                    "PUT needs an unexpired upload URL from createUploadBucketSignedUrls"
                )
            return await self._put(request, key)
        if not key or not (signed or await self.auth.user(request) is not None):
            return _forbidden("GET needs the API key or an unexpired download URL")
        found = await in_thread(self.store.files.get, key)
        if found is None:
            return JSONResponse(error_body(f"No file at {key!r}.", "NOT_FOUND"), status_code=404)
        blob = self.store.files.blob(key)
        if key.startswith("tiles/") and key.endswith("/tiles.json"):
            base = str(request.base_url).rstrip("/")
            return Response(
                await in_thread(_tiles_document, blob, base), media_type="application/json"
            )
        return FileResponse(blob, media_type=found.content_type)

    async def _put(self, request: Request, key: str) -> Response:
        cap = self.settings.max_upload_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            return _too_large(cap)
        files = self.store.files
        temp = files.temp()
        try:
            with temp.open("wb") as out:
                complete = await _receive(request, out, cap)
            if not complete:
                return _too_large(cap)
            content_type = request.headers.get("content-type", "application/octet-stream")
            await in_thread(files.commit, key, content_type, temp.stat().st_size, temp)
        finally:
            temp.unlink(missing_ok=True)
        return Response(status_code=200)


def _tiles_document(blob: Path, base: str) -> bytes:
    """A tiled image's document (``tiling.py``) with its tile URLs on this server's current
    address (the server may have moved since it tiled the image: another port, a proxy)."""
    layers = json.loads(blob.read_bytes())
    for layer in layers:
        url = layer.get("tileLayerUrl") or ""
        _, found, rest = url.partition(f"{PREFIX}/files?")
        if found:
            layer["tileLayerUrl"] = f"{base}{PREFIX}/files?{rest}"
    return json.dumps(layers).encode()


def _forbidden(why: str) -> JSONResponse:
    return JSONResponse(error_body(f"Forbidden: {why}.", "FORBIDDEN"), status_code=403)
