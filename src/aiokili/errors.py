"""One error tree for everything aiokili raises, rooted at :class:`KiliError`.

```
KiliError
├── ConfigurationError            no API key, bad endpoint (raised before any request)
├── KiliInputError (ValueError)   bad arguments, checked locally or against the API
│   ├── PluginArgumentError       a plugin argument missing or misnamed (also a TypeError)
│   ├── InvalidInterfaceError     a json interface the platform would refuse
│   ├── MalformedLabelError       a label that does not match its project's json interface
│   └── PluginNameTaken           upload_plugin with a name already used (→ update_plugin)
├── APIError                      a request was made and failed
│   ├── APIConnectionError        network failure → APITimeoutError
│   ├── HTTPStatusError           non-GraphQL error body with a 4xx/5xx status → RateLimitError
│   ├── InvalidResponseError      a 2xx body that is not a GraphQL result
│   ├── MutationOutcomeUnknownError  a mutation sent, its answer lost: maybe applied
│   └── GraphQLError              the API answered with ``errors`` (any status)
│       ├── AuthenticationError   missing, wrong or expired API key
│       ├── NotFoundError         the object named in the request does not exist
│       ├── PermissionDeniedError the key's user lacks the role the call needs
│       └── InvalidRequestError   the API rejected the request's input (also a KiliInputError)
├── BulkOperationError            some items of a bulk call failed; the rest were done
├── DeadlineExceededError         a bulk call's deadline passed before an item was done
├── PluginBuildError              an uploaded plugin failed to build (carries the build errors)
├── PluginDeployTimeout           a plugin was not active before the deployment timeout
└── DatabaseVersionError          a local server database made by a newer aiokili
```
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from typing_extensions import Self


class KiliError(Exception):
    """Root of every exception raised by aiokili."""


class ConfigurationError(KiliError):
    """The client is misconfigured (e.g. no API key); nothing was sent."""


class KiliInputError(KiliError, ValueError):
    """An argument is invalid. The message names the argument and how to fix it."""


class APIError(KiliError):
    """A request to the Kili API failed.

    Attributes:
        status_code: HTTP status of the last response, or None if there was no response.
        operation: the GraphQL operation name, when known (e.g. ``"CountProjects"``).
        call: the public method the request was made for, when known (e.g. ``"projects"``);
            the message starts with it (``projects(): ...``).
        outcome_unknown: True when a mutation was sent and may or may not have been applied
            (a timeout after sending, a dropped connection, a 5xx); it was not resent.
        request_id: the ``X-Request-Id`` of the server's last answer (None if no answer
            came: refused, reset or timed-out connections); give it when reporting a problem.
        attempts: how many times the request was sent (1 + the retries).
    """

    outcome_unknown = False
    request_id: str | None = None
    attempts = 1

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        operation: str | None = None,
        call: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.operation = operation
        self.call = call


class APIConnectionError(APIError):
    """The API could not be reached (connection refused, reset, DNS...)."""


class APITimeoutError(APIConnectionError):
    """The request timed out."""


class HTTPStatusError(APIError):
    """The API answered with an error status and a body that is not a GraphQL result.

    Attributes:
        body: the start of the response body (at most 500 characters).
        retry_after: seconds the server asked to wait, if it said so.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: str = "",
        retry_after: float | None = None,
        operation: str | None = None,
        call: str | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, operation=operation, call=call)
        self.body = body
        self.retry_after = retry_after


class RateLimitError(HTTPStatusError):
    """HTTP 429: too many requests, even after retrying."""


class InvalidResponseError(APIError):
    """The API answered 2xx with a body that is not a GraphQL result."""


class MutationOutcomeUnknownError(APIError):
    """A mutation was sent and its answer lost (a dropped connection, a timeout after
    sending, HTTP 500/502/504 or a 503 without ``Retry-After``, an answer cut short): it
    may or may not have been applied, so it was not sent again. Bulk calls settle this
    themselves (they look up what was applied); a single mutation raises this error.

    Check whether the change is there (e.g. list the objects ``identifiers`` name)
    before calling again. ``__cause__`` is the failure itself (e.g. an
    :class:`APITimeoutError`); ``status_code``, ``request_id`` and ``attempts`` are its.

    Attributes:
        identifiers: the ids the mutation's variables named (ids, external ids, asset
            ids...), in order; empty for a mutation that names none (e.g. a creation).
    """

    outcome_unknown = True

    def __init__(
        self,
        cause: APIError,
        *,
        subject: str,
        identifiers: Sequence[str] = (),
        operation: str | None = None,
        call: str | None = None,
    ) -> None:
        self.identifiers = tuple(identifiers)
        reason = str(cause).removeprefix(f"{subject}: ").rstrip(".")
        named = ""
        if self.identifiers:
            shown = ", ".join(map(repr, self.identifiers[:5]))
            more = f" and {len(self.identifiers) - 5} more" if len(self.identifiers) > 5 else ""
            named = f" (it names {shown}{more})"
        super().__init__(
            f"{subject}: the outcome of {operation or 'the mutation'} is unknown{named}: "
            f"{reason}. It may have been applied, so it was not sent again: check before "
            "calling again.",
            status_code=cause.status_code,
            operation=operation,
            call=call,
        )
        self.request_id, self.attempts = cause.request_id, cause.attempts


@dataclass(frozen=True)
class GraphQLErrorDetail:
    """One entry of a GraphQL ``errors`` list."""

    message: str
    path: tuple[str | int, ...] = ()
    extensions: dict[str, Any] = field(default_factory=dict)
    locations: tuple[dict[str, int], ...] = ()

    @property
    def code(self) -> str | None:
        """``extensions.code`` (e.g. ``NOT_FOUND``), if the server set one."""
        code = self.extensions.get("code")
        return code if isinstance(code, str) else None

    @classmethod
    def from_dict(cls, raw: Any) -> GraphQLErrorDetail:
        """Build from a raw error dict, tolerating missing or odd keys."""
        if not isinstance(raw, dict):
            return cls(message=str(raw))
        return cls(
            message=str(raw.get("message", "")),
            path=tuple(raw.get("path") or ()),
            extensions=dict(raw.get("extensions") or {}),
            locations=tuple(raw.get("locations") or ()),
        )


class GraphQLError(APIError):
    """The API answered with GraphQL ``errors``.

    The message is the first error's, after the call that failed (``projects(): ...``, or
    the operation's name outside a public method) and before ``hint``, if any.

    Attributes:
        errors: every error the server returned, with message, path and extensions.
        data: the partial ``data`` that came with the errors (often None).
    """

    def __init__(
        self,
        errors: Sequence[GraphQLErrorDetail],
        *,
        data: Any = None,
        status_code: int | None = None,
        operation: str | None = None,
        call: str | None = None,
        hint: str = "",
    ) -> None:
        self.errors = list(errors)
        self.data = data
        first = self.errors[0].message if self.errors else "GraphQL error"
        more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        where = f"{call}(): " if call else f"{operation}: " if operation else ""
        super().__init__(
            f"{where}{first}{more}{hint}", status_code=status_code, operation=operation, call=call
        )

    @property
    def code(self) -> str | None:
        """``extensions.code`` of the first error."""
        return self.errors[0].code if self.errors else None

    @classmethod
    def from_message(cls, message: str, code: str, **kwargs: Any) -> Self:
        """An error with one detail (made by the client, or from a non-GraphQL answer)."""
        return cls([GraphQLErrorDetail(message, extensions={"code": code})], **kwargs)


class AuthenticationError(GraphQLError):
    """The API key is missing, unknown or expired. Check ``KILI_API_KEY`` / ``api_key=``."""


class NotFoundError(GraphQLError):
    """An object named in the request (project, asset, label...) does not exist."""


class PermissionDeniedError(GraphQLError):
    """The key's user lacks the role the call needs (``[accessDenied]``, ``FORBIDDEN``): the
    message names the role (a project role such as ``TEAM_MANAGER``, or the organization
    role ``ADMIN``). Ask an ADMIN of the project or organization to give it."""


class InvalidRequestError(GraphQLError, KiliInputError):
    """The API rejected the request's input (``BAD_USER_INPUT``, an invalid document, a
    query over the server's size limits). The message says what to change."""


@dataclass(frozen=True)
class ItemFailure:
    """One item of a bulk call that failed.

    Attributes:
        index: position of the item in the input arrays.
        key: the item's identifier (external id, asset id...) as the caller gave it.
        error: why it failed.
    """

    index: int
    key: str | None
    error: BaseException


class BulkOperationError(KiliError):
    """Some items of a bulk call failed; every other item was applied once.

    Attributes:
        failures: one entry per failed item, in input order.
        succeeded: the results of the items that succeeded (e.g. created ids), in input order.
    """

    def __init__(
        self, operation: str, failures: Sequence[ItemFailure], succeeded: Sequence[Any]
    ) -> None:
        self.operation = operation
        self.failures = list(failures)
        self.succeeded = list(succeeded)
        first = self.failures[0] if self.failures else None
        reason = ""
        if first is not None:  # its own message, without the call's name said twice
            detail = str(first.error).removeprefix(f"{operation}(): ").rstrip(".")
            reason = f"; first error at index {first.index}: {detail}"
        super().__init__(
            f"{operation}(): {len(self.failures)} item(s) failed, {len(self.succeeded)} "
            f"succeeded{reason}. Fix the failed items and call again with only those."
        )


class DeadlineExceededError(KiliError):
    """The ``deadline`` of a bulk call passed before this item was done; it was not applied.

    Found in :attr:`BulkOperationError.failures` (as an item's ``error``): the item was not
    sent (``sent`` False), or it was sent, refused in a way that proves nothing was applied
    (a 429, a 503 with ``Retry-After``, or a resend that a look-up showed was needed), and
    not sent again (``sent`` True, the last failure as ``__cause__``). Call again with
    only the failed items: nothing of them was done.

    Attributes:
        deadline: the deadline that passed, in seconds from the start of the bulk call.
        sent: whether the item had been sent before the deadline passed.
    """

    def __init__(self, message: str, *, deadline: float, sent: bool) -> None:
        super().__init__(message)
        self.deadline, self.sent = deadline, sent


class PluginBuildError(KiliError):
    """An uploaded plugin's deployment failed.

    Attributes:
        plugin_name: the plugin.
        errors: its build errors (``PluginLog`` entries of ``get_plugin_build_errors``),
            oldest first; may be empty if the server reported none.
    """

    def __init__(self, plugin_name: str, errors: Sequence[Any]) -> None:
        self.plugin_name = plugin_name
        self.errors = list(errors)
        details = "".join(f"\n  {getattr(e, 'content', e)}" for e in self.errors[-5:])
        super().__init__(
            f'Plugin "{plugin_name}" failed to build ({len(self.errors)} build error(s)).'
            f"{details or ' The server reported no build error.'}\nFix the plugin and call "
            "update_plugin(); get_plugin_build_errors() lists every error."
        )


class PluginDeployTimeout(KiliError):
    """A plugin was still not active when the deployment timeout ran out (it may still
    become active: check ``get_plugin_status``).

    Attributes:
        plugin_name: the plugin. status: its last status (e.g. ``"DEPLOYING"``).
        timeout: the timeout in seconds.
    """

    def __init__(self, plugin_name: str, status: str | None, timeout: float) -> None:
        self.plugin_name = plugin_name
        self.status = status
        self.timeout = timeout
        super().__init__(
            f'Plugin "{plugin_name}" was not active after {timeout:g} s (last status: '
            f"{status}). It may still be deploying: check get_plugin_status(), or wait longer "
            "with deploy_timeout=."
        )


class InvalidInterfaceError(KiliInputError):
    """A json interface the platform would refuse (an unknown ML task, input or tool, a
    child job that does not exist...), found before any request.

    Attributes:
        problems: one line per problem, each starting with where it is
            (``jobs.BOX.tools[0]: ...``).
    """

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


class MalformedLabelError(KiliInputError):
    """A label's json response does not match its project's json interface (the platform
    answers such a label with ``jsonResponseMalformed``); found before any request, nothing
    was written.

    Attributes:
        index: position of the label in the call's arrays (0 for single-label calls).
        job: the job at fault, when there is one.
        name: the unknown job, category or tool, when that is the problem.
        accepted: what the interface accepts there (its jobs, the job's categories or tools).
        path: where in the json response (``BOX.annotations[0].type``).
    """

    def __init__(
        self,
        message: str,
        *,
        index: int,
        job: str | None,
        name: str | None,
        accepted: Sequence[str],
        path: str,
    ) -> None:
        super().__init__(message)
        self.index = index
        self.job = job
        self.name = name
        self.accepted = tuple(accepted)
        self.path = path


class PluginArgumentError(KiliInputError, TypeError):
    """A plugin argument missing or misnamed. A :class:`KiliInputError` like every bad
    argument, and a ``TypeError`` as the official SDK raises there, so code catching either
    keeps working."""


class DatabaseVersionError(KiliError):
    """The local server's database is stamped with a schema revision this aiokili does not
    know (a newer aiokili wrote it); it was left unchanged. The message names the file and
    the fix: upgrade aiokili."""


class PluginNameTaken(KiliInputError):
    """``upload_plugin`` with the name of a plugin already uploaded (its ``__cause__`` is
    the API's error); the message points to ``update_plugin``."""
