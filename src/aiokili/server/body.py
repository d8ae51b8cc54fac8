"""Reading a GraphQL request body: capped (after gzip inflation too), checked, decoded.

Every refusal is an HTTP error with a GraphQL-shaped JSON body; a body that is refused
after being read in full leaves the keep-alive connection usable.
"""

from __future__ import annotations

import json
import re
import zlib
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from .errors import error_body

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class BodyError(Exception):
    """A request body the server refuses."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> JSONResponse:
        return JSONResponse(error_body(self.message, self.code), status_code=self.status)


def _bad(message: str) -> BodyError:
    return BodyError(400, "BAD_REQUEST", message)


def _too_large(cap: int, *, inflated: bool) -> BodyError:
    what = "inflated body" if inflated else "body"
    return BodyError(
        413,
        "PAYLOAD_TOO_LARGE",
        f"Request refused: the {what} is over the limit of {cap:,} bytes "
        "(max_body_bytes). Send smaller batches.",
    )


async def read_body(request: Request, cap: int) -> bytes:
    """The body, inflated if ``Content-Encoding: gzip``, refused as soon as it passes ``cap``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise _too_large(cap, inflated=False)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip", ""):
        raise BodyError(
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            f"Content-Encoding {encoding!r} is not supported: send gzip or plain.",
        )
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding == "gzip" else None
    out, raw, broken = bytearray(), 0, False
    async for chunk in request.stream():
        raw += len(chunk)
        if raw > cap:
            raise _too_large(cap, inflated=False)
        if inflater is None:
            out += chunk
        elif not broken:  # once broken, keep draining so the connection stays usable
            try:
                data = chunk
                while data:
                    out += inflater.decompress(data, cap + 1 - len(out))
                    if len(out) > cap:
                        raise _too_large(cap, inflated=True)
                    data = inflater.unconsumed_tail
            except zlib.error:
                broken = True
    if inflater is not None and (broken or not inflater.eof):
        raise _bad("Request body is not valid gzip (Content-Encoding: gzip).")
    return bytes(out)


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (write a number or null)")


def decode_operation(body: bytes) -> dict[str, Any]:
    """``{"query": ..., "variables": ..., "operationName": ...}`` from a JSON body."""
    try:
        data = json.loads(body, parse_constant=_not_json)
    except RecursionError:
        raise _bad("Request body is JSON nested too deeply.") from None
    except ValueError as exc:  # includes UnicodeDecodeError
        raise _bad(f"Request body is not valid JSON: {exc}.") from None
    if _SURROGATE_ESCAPE.search(body):
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise _bad("Request body has an unpaired UTF-16 surrogate (\\ud800-\\udfff).") from None
        except RecursionError:
            raise _bad("Request body is JSON nested too deeply.") from None
    if not isinstance(data, dict):
        raise _bad(f"Request body must be a JSON object, got {type(data).__name__}.")
    if not isinstance(data.get("query"), str) or not data["query"].strip():
        raise _bad('Request body needs "query": a GraphQL document as a string.')
    if not isinstance(data.get("variables") or {}, dict):
        raise _bad('"variables" must be a JSON object or null.')
    if not isinstance(data.get("operationName") or "", str):
        raise _bad('"operationName" must be a string or null.')
    return data
