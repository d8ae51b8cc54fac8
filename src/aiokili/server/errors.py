"""Errors the local server reports as GraphQL errors with an ``extensions.code``."""

from __future__ import annotations


class ServerError(Exception):
    """A user-facing error: the message says what is wrong and how to fix it."""

    def __init__(self, message: str, code: str = "BAD_USER_INPUT") -> None:
        super().__init__(message)
        self.code = code

    @classmethod
    def not_found(cls, kind: str, ident: str) -> ServerError:
        """``<kind> "<id>" not found`` with a hint."""
        return cls(
            f'{kind} "{ident}" not found. Check the id, or list them with {kind.lower()}s().',
            "NOT_FOUND",
        )
