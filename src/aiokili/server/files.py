"""Uploaded files over HTTP: signed URLs and the streamed PUT / GET endpoint (the blobs
are kept by ``store/files.py``, next to the database).

A signed URL names an object key that embeds a server-made nonce, so an upload never
overwrites another upload's object. A URL is bound to its method (PUT or GET) and
expires; an upload URL also names (and signs) the organization whose file it makes. GETs
are also allowed with the API key (the official SDK sends it for every URL under
``/api/label/v2``), for the files of the key's organization only: another organization's
file is "not found" (files uploaded before owners were kept are served to any key). The
signing secret lives in the database, so stored content URLs survive a restart.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import parse_qs, quote, urlsplit

from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response

from .errors import error_body, logger
from .group_commit import GroupCommit
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

    def _signature(self, method: str, key: str, expires: str, owner: str) -> str:
        message = f"{method}\n{key}\n{expires}" + (f"\n{owner}" if owner else "")
        return hmac.new(self._secret, message.encode(), hashlib.sha256).hexdigest()[:40]

    def url(self, base: str, key: str, method: str = "PUT", owner: str = "") -> str:
        """``<base>/api/label/v2/files?path=...&signature=...&id=<key>``; a PUT URL made for
        an organization (``owner``) records the file as that organization's."""
        expires = str(int(time.time() + self.ttl_s))
        q = quote(key, safe="")
        signed = f"&owner={quote(owner, safe='')}" if owner else ""
        return (
            f"{base}{PREFIX}/files?path={q}&method={method}&expires={expires}{signed}"
            f"&signature={self._signature(method, key, expires, owner)}&id={q}"
        )

    def upload_url(self, base: str, path: str, owner: str) -> str:
        """A PUT URL for ``path`` whose object key is new (``uploads/<nonce>/<path>``), of
        organization ``owner``."""
        return self.url(base, f"uploads/{secrets.token_hex(8)}/{path}", owner=owner)

    def allows(self, request: Request, key: str) -> bool:
        """Whether the request's signature covers its method, ``key`` (and owner) and has
        not expired."""
        params = request.query_params
        method, expires = params.get("method", ""), params.get("expires", "")
        if method != request.method or not expires.isdigit() or int(expires) < time.time():
            return False
        expected = self._signature(method, key, expires, params.get("owner", ""))
        return hmac.compare_digest(params.get("signature", ""), expected)

    def download_url(
        self,
        base: str,
        stored: str | None,
        organization_id: str,
        owner_of: Callable[[str], str | None],
    ) -> str | None:
        """A fresh GET URL for content that is one of our files (an upload, or tiles made
        from one) of ``organization_id`` (or of no organization: made before owners were
        kept); anything else as is.

        The upload's organization is the one its stored URL names and signs, else
        ``owner_of(key)`` (the files table: copies, older uploads): a URL copied from
        another organization's asset is never signed again for the caller."""
        key = stored_key(stored)
        if not stored or key is None:
            return stored
        params = parse_qs(urlsplit(stored).query)
        owner = self._signed_owner(params, key)
        if owner is None:
            owner = owner_of(key) or ""
        return self.url(base, key, "GET") if owner in ("", organization_id) else stored

    def _signed_owner(self, params: dict[str, list[str]], key: str) -> str | None:
        """The organization a stored upload URL names, if its signature covers it (expired
        or not); None otherwise."""
        first = {name: (values or [""])[0] for name, values in params.items()}
        owner = first.get("owner", "")
        if not owner:
            return None
        expected = self._signature(first.get("method", ""), key, first.get("expires", ""), owner)
        return owner if hmac.compare_digest(first.get("signature", ""), expected) else None


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


def _open_to_write(path: Path) -> BinaryIO:
    return path.open("wb")


async def _receive(request: Request, cap: int, out: BinaryIO | None = None) -> bytes | None:
    """The body; with ``out``, streamed to it in writes of ``_WRITE_CHUNK`` bytes instead
    (then ``b""``). ``None`` as soon as it goes over ``cap`` bytes."""
    size, buffer = 0, bytearray()
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            return None
        buffer += chunk
        if out is not None and len(buffer) >= _WRITE_CHUNK:
            await in_thread(out.write, buffer)
            buffer = bytearray()
    if out is None:
        return bytes(buffer)
    if buffer:
        await in_thread(out.write, buffer)
    return b""


class FilesEndpoint:
    """``GET|PUT /api/label/v2/files?path=<key>&...``."""

    def __init__(self, store: Store, signer: Signer, auth: Authenticator, settings: Settings):
        self.store, self.signer, self.auth, self.settings = store, signer, auth, settings
        self._commit_small = GroupCommit(store.files.commit_bytes)

    async def __call__(self, request: Request) -> Response:
        key = request.query_params.get("path") or request.query_params.get("id") or ""
        signed = bool(key) and self.signer.allows(request, key)
        if request.method == "PUT":
            if not signed:
                return _forbidden(
                    "PUT needs an unexpired upload URL from createUploadBucketSignedUrls"
                )
            return await self._put(request, key)
        user = None if signed or not key else await self.auth.user(request)
        if not key or not (signed or user is not None):
            return _forbidden("GET needs the API key or an unexpired download URL")
        found = await in_thread(self.store.files.get, key)
        theirs = (
            found is not None
            and user is not None
            and found.organization_id not in (None, user.organization_id)
        )
        if found is None or theirs:
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
        content_type = request.headers.get("content-type", "application/octet-stream")
        owner = request.query_params.get("owner") or None  # signed with the key
        files = self.store.files
        try:
            if declared.isdigit() and int(declared) <= _WRITE_CHUNK:
                # small (most uploads): received whole, then written and recorded with the
                # others arriving meanwhile (one thread hop, one transaction)
                data = await _receive(request, cap)
                if data is None:
                    return _too_large(cap)
                await self._commit_small((key, content_type, data, owner))
                return Response(status_code=200)
            temp = files.temp()
            try:
                out = await in_thread(_open_to_write, temp)
                try:
                    complete = await _receive(request, cap, out) is not None
                finally:
                    await in_thread(out.close)
                if not complete:
                    return _too_large(cap)
                size = (await in_thread(temp.stat)).st_size
                await in_thread(files.commit, key, content_type, size, temp, owner)
            finally:
                await in_thread(temp.unlink, missing_ok=True)
        except ClientDisconnect:  # nobody to answer: one line, no traceback
            logger.info("files - client disconnected before sending the whole upload")
            return Response(status_code=400)
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
