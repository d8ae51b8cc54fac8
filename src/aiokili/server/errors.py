"""Errors the local server reports, how they are shaped on the wire, and how they are logged."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError

logger = logging.getLogger("aiokili.server")


class ServerError(Exception):
    """A user-facing error: the message says what is wrong and how to fix it.

    ``context``: sent as ``extensions.context`` (the platform's lock reasons,
    ``{"reason": "NotInStepAssignees"}``, which the official SDK reads).
    """

    def __init__(
        self, message: str, code: str = "BAD_USER_INPUT", context: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.context = context

    @classmethod
    def not_found(cls, kind: str, ident: str) -> ServerError:
        """``<kind> "<id>" not found`` with a hint."""
        return cls(
            f'{kind} "{ident}" not found. Check the id, or list them with {kind.lower()}s().',
            "NOT_FOUND",
        )

    @classmethod
    def not_implemented(cls, what: str) -> ServerError:
        """``<what> is not implemented by the local server yet``."""
        return cls(f"{what} is not implemented by the local server yet.", "NOT_IMPLEMENTED")


def error_body(message: str, code: str) -> dict[str, Any]:
    """A GraphQL-shaped JSON error body."""
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


def _is_user_error(error: GraphQLError) -> bool:
    """Validation, variable coercion (a scalar refusing a value) or a :class:`ServerError`."""
    original = error.original_error
    if original is None or isinstance(original, ServerError):
        return True
    return error.path is None and isinstance(original, (ValueError, TypeError, GraphQLError))


def format_error(error: GraphQLError, debug: bool = False) -> dict[str, Any]:
    """Shape an error: ``extensions.code`` always set, no internals leaked."""
    formatted: dict[str, Any] = dict(error.formatted)
    original = error.original_error
    if isinstance(original, ServerError):
        code = original.code
        if original.context is not None:
            formatted["extensions"] = {
                **(formatted.get("extensions") or {}),
                "context": original.context,
            }
    elif original is None:
        code = (error.extensions or {}).get("code") or "GRAPHQL_VALIDATION_FAILED"
    elif _is_user_error(error):  # a scalar parser refusing a value (PageSize...)
        code = "BAD_USER_INPUT"
    else:
        formatted["message"] = "Internal server error: the local server failed on this request."
        code = "INTERNAL_SERVER_ERROR"
    formatted["extensions"] = {**(formatted.get("extensions") or {}), "code": code}
    if isinstance(original, ServerError) and original.context:
        formatted["extensions"]["context"] = dict(original.context)
    return formatted


if TYPE_CHECKING:
    _Adapter = logging.LoggerAdapter[logging.Logger]
else:  # not subscriptable at run time before Python 3.11
    _Adapter = logging.LoggerAdapter


class ErrorLog(_Adapter):
    """Ariadne logs every GraphQL error with a traceback: keep only unexpected ones."""

    def __init__(self) -> None:
        super().__init__(logger, {})

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        if isinstance(msg, GraphQLError) and _is_user_error(msg):
            return
        super().log(level, "unexpected error: %s", msg, **kwargs)

    def process(
        self, msg: Any, kwargs: MutableMapping[str, Any]
    ) -> tuple[Any, MutableMapping[str, Any]]:
        return msg, kwargs
