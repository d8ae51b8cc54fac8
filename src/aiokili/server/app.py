"""The Starlette app: GraphQL, version, signed-URL files, API-key auth, latency."""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import secrets
from typing import Any
from urllib.parse import quote

import anyio
from ariadne import graphql
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from .errors import ServerError
from .resolvers import build_schema, schema_path
from .store import Row, Store

PREFIX = "/api/label/v2"


def _format_error(error: GraphQLError, debug: bool = False) -> dict[str, Any]:
    formatted: dict[str, Any] = dict(error.formatted)
    original = error.original_error
    if isinstance(original, ServerError):
        formatted["extensions"] = {"code": original.code}
    elif original is not None:
        formatted["message"] = f"Internal error: {original}"
        formatted["extensions"] = {"code": "INTERNAL_SERVER_ERROR"}
    else:
        formatted["extensions"] = {"code": "GRAPHQL_VALIDATION_FAILED"}
    return formatted


def _unauthorized() -> JSONResponse:
    return JSONResponse(
        {"data": None, "errors": [{
            "message": "Missing or invalid API key. Send the header 'Authorization: X-API-Key: "
            "<key>' (set KILI_API_KEY or pass api_key=); `aiokili server` prints a key.",
            "extensions": {"code": "UNAUTHENTICATED"}}]},
        status_code=401,
    )  # fmt: skip


def create_app(store: Store, *, latency_ms: float = 0.0) -> Starlette:
    """The local Kili server as an ASGI app over ``store``."""
    schema = build_schema()
    version = hashlib.sha256(schema_path().read_bytes()).hexdigest()[:12]
    secret = secrets.token_bytes(16)
    notifications: dict[str, Row] = {}

    def signature(path: str) -> str:
        return hmac.new(secret, path.encode(), hashlib.sha256).hexdigest()[:32]

    def user_of(request: Request) -> Row | None:
        header = request.headers.get("authorization") or request.headers.get("x-api-key") or ""
        key = header.split("X-API-Key:", 1)[-1].strip()
        return store.user_for_key(key) if key else None

    async def delay() -> None:
        if latency_ms > 0:
            await anyio.sleep(latency_ms / 1000)

    async def graphql_route(request: Request) -> Response:
        await delay()
        user = user_of(request)
        if user is None:
            return _unauthorized()
        body = await request.body()
        if request.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        try:
            payload = json.loads(body)
        except ValueError:
            return JSONResponse({"errors": [{"message": "Body is not JSON."}]}, status_code=400)
        base = str(request.base_url).rstrip("/")

        def sign_path(path: str) -> str:
            p = quote(path, safe="")
            return f"{base}{PREFIX}/files?path={p}&signature={signature(path)}&id={p}"

        context = {"store": store, "user": user, "sign_path": sign_path,
                   "notifications": notifications}  # fmt: skip
        success, result = await graphql(
            schema, payload, context_value=context, error_formatter=_format_error
        )
        return JSONResponse(result, status_code=200 if success else 400)

    async def version_route(request: Request) -> Response:
        await delay()
        return Response(f'{{"version":"{version}"}}', media_type="application/json")

    async def files_route(request: Request) -> Response:
        await delay()
        path = request.query_params.get("path") or request.query_params.get("id") or ""
        signed = hmac.compare_digest(request.query_params.get("signature", ""), signature(path))
        if not path or not (signed or user_of(request) is not None):
            return PlainTextResponse("invalid signature or API key", status_code=403)
        if request.method == "PUT":
            content_type = request.headers.get("content-type", "application/octet-stream")
            store.put_file(path, content_type, await request.body())
            return Response(status_code=200)
        found = store.get_file(path)
        if found is None:
            return PlainTextResponse(f"no file at {path}", status_code=404)
        return Response(found[1], media_type=found[0])

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
            Route(f"{PREFIX}/graphql", graphql_route, methods=["POST"]),
            Route(f"{PREFIX}/version", version_route, methods=["GET"]),
            Route(f"{PREFIX}/files", files_route, methods=["GET", "PUT"]),
            Route("/healthz", health, methods=["GET"]),
        ]
    )
