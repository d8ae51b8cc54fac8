"""The GraphQL client: the generated operations, sent through the retry policy, with
answers parsed straight from the response bytes into the generated models.

The generated methods call ``execute`` then ``get_data`` then ``Model.model_validate``.
Here ``execute`` sends the request (retrying only what is safe for *this* operation,
decided from the parsed document) and ``get_data`` validates the body's bytes directly
into the operation's result model (one pass in pydantic-core, no intermediate dicts);
pydantic returns a model instance unchanged from ``model_validate``. Every failure is an
:class:`~aiokili.errors.APIError`, including bodies that are not what the schema says; its
message starts with the public call the request was made for (``projects(): ...``, see
``_core.calls``), or the operation's name when it was sent directly (``kili.graphql``).
"""

from __future__ import annotations

import importlib
import re
import typing
from collections.abc import AsyncIterator
from functools import cache, lru_cache
from typing import Any, cast

import httpx
import pydantic_core
from pydantic import BaseModel, ValidationError

from .._generated.base_model import UNSET
from .._generated.client import GeneratedClient
from ..errors import (
    APIError,
    AuthenticationError,
    GraphQLError,
    GraphQLErrorDetail,
    InvalidRequestError,
    InvalidResponseError,
    KiliInputError,
    MutationOutcomeUnknownError,
    NotFoundError,
    PermissionDeniedError,
)
from .calls import current
from .failures import path_hint, status_error
from .http import ATTEMPTS_KEY, RetryPolicy, request_id
from .settings import Endpoint

_AUTH_CODES = frozenset({"UNAUTHENTICATED", "FORBIDDEN_API_KEY"})
_INPUT_CODES = frozenset(
    {
        "BAD_USER_INPUT",
        "BAD_REQUEST",
        "GRAPHQL_VALIDATION_FAILED",
        "GRAPHQL_PARSE_FAILED",
        "QUERY_TOO_COMPLEX",
        "QUERY_TOO_DEEP",
    }
)
_OPERATION_KEY = "aiokili.operation"
_CALL_KEY = "aiokili.call"


# Tokens that matter to find a document's operations: strings and comments (skipped whole,
# so that nothing inside them counts), brackets, names, directives.
_TOKEN = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""|"(?:[^"\\\n]|\\.)*"|#[^\n\r]*|[{}()]|@?[_A-Za-z]\w*'
)
_KINDS = frozenset({"query", "mutation", "subscription"})
_NAMED = _KINDS | {"fragment"}  # definitions whose name follows their keyword


@lru_cache(maxsize=1024)
def operation_kind(document: str, operation_name: str | None) -> str | None:
    """``"query"``, ``"mutation"`` or ``"subscription"`` for the operation that
    ``operation_name`` selects in ``document``; None if that cannot be told.

    Read from the top-level tokens (``query Name``, ``{ ... }`` for an anonymous query,
    fragments skipped): the kind decides whether a failed request may be resent, and needs
    no GraphQL parser (graphql-core comes with the ``server`` extra only)."""
    operations: list[tuple[str, str | None]] = []
    depth = 0
    keyword: str | None = None  # of the top-level definition being read
    name: str | None = None
    for token in _TOKEN.findall(document):
        if token[0] in '"#':
            continue
        if token in "({":
            if depth == 0 and token == "{" and keyword is None:
                keyword = "query"  # the `{ ... }` shorthand
            depth += 1
        elif token in ")}":
            depth -= 1
            if depth < 0:
                return None
            if depth == 0 and token == "}":
                if keyword in _KINDS:
                    operations.append((keyword, name))
                keyword = name = None
        elif depth == 0 and not token.startswith("@"):
            if keyword is None:
                keyword = token
            elif name is None and keyword in _NAMED:
                name = token
    if depth != 0:
        return None
    if operation_name is not None:
        operations = [op for op in operations if op[1] == operation_name]
    return operations[0][0] if len(operations) == 1 else None


# The words of an operation name, split as ariadne-codegen names its modules after them.
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?=[A-Z][a-z]|\d|\W|_|$)|\d+")


@cache
def result_model(operation: str) -> type[BaseModel] | None:
    """The generated result model of ``operation`` (of each event for subscriptions), or
    None if the generated client has no such operation.

    Imported on first use: codegen writes ``CountProjects`` to ``count_projects.py``, so a
    program loads the models of the operations it sends, not all of them."""
    module = f"{__package__.rpartition('.')[0]}._generated." + "_".join(
        word.lower() for word in _WORD.findall(operation)
    )
    try:
        found = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        return None
    model = getattr(found, operation, None)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


D = typing.TypeVar("D", bound=BaseModel)


class _Response(BaseModel, typing.Generic[D]):
    """A GraphQL response body whose ``data`` is the operation's result model."""

    data: D | None = None
    errors: list[Any] | None = None


@cache
def _envelope(model: type[D]) -> type[_Response[D]]:
    return _Response[model]  # type: ignore[valid-type]


def subject(call: str | None, operation: str | None) -> str:
    """Who made a request, as errors name it: the public call, else the operation."""
    return f"{call}()" if call else operation or "the Kili API"


def graphql_error(
    body: dict[str, Any],
    status: int,
    operation: str | None,
    call: str | None = None,
    endpoint: Endpoint | None = None,
) -> GraphQLError:
    """The typed error for a GraphQL body with ``errors`` (an authentication error names
    ``endpoint``, as a key works only on the server that issued it)."""
    details = [GraphQLErrorDetail.from_dict(e) for e in body["errors"]]
    codes = {d.code for d in details}
    cls: type[GraphQLError] = GraphQLError
    hint = ""
    if status in (401, 403) or codes & _AUTH_CODES:
        cls = AuthenticationError
        if endpoint is not None:
            hint = f" The key was sent to {endpoint}."
    elif "NOT_FOUND" in codes:
        cls = NotFoundError
    elif "FORBIDDEN" in codes:
        cls = PermissionDeniedError
    elif codes & _INPUT_CODES:
        cls = InvalidRequestError
    return cls(
        details,
        data=body.get("data"),
        status_code=status,
        operation=operation,
        call=call,
        hint=hint,
    )


_ID_KEY = re.compile(r"^(?:id|ID)(?:s|In|Array)?$|(?:[a-z0-9]I[dD]|_id)(?:s|In|Array)?$")


def identifiers(variables: Any) -> list[str]:
    """The ids a request's variables name (values of keys such as ``id``, ``assetID``,
    ``externalIdArray``, ``idIn``), in order, each once: what a lost mutation was about."""
    found: dict[str, None] = {}
    todo = [variables]
    while todo:
        current = todo.pop(0)
        if isinstance(current, BaseModel):
            current = current.model_dump(by_alias=True, exclude_none=True)
        if isinstance(current, dict):
            for key, value in current.items():
                if isinstance(key, str) and _ID_KEY.search(key):
                    values = value if isinstance(value, (list, tuple)) else [value]
                    found.update((v, None) for v in values if isinstance(v, str))
                elif isinstance(value, (dict, list, tuple, BaseModel)):
                    todo.append(value)
        elif isinstance(current, (list, tuple)):
            todo.extend(current)
    return list(found)


def _graphql_body(response: httpx.Response) -> dict[str, Any] | None:
    """The decoded body if it is a GraphQL result (``data`` or a list of ``errors``)."""
    try:
        body = pydantic_core.from_json(response.content)
    except ValueError:
        return None
    if not isinstance(body, dict) or not ("data" in body or "errors" in body):
        return None
    errors = body.get("errors")
    if errors is not None and not isinstance(errors, list):
        return None
    return body


def read_result(
    response: httpx.Response,
    operation: str | None,
    model: type[BaseModel] | None,
    *,
    call: str | None = None,
    endpoint: Endpoint | None = None,
) -> Any:
    """The ``data`` of a GraphQL answer, as ``model`` when given, else as a dict.

    Raises the matching :class:`~aiokili.errors.APIError` for errors, HTTP failures and
    bodies that are not a valid answer, naming ``call`` (else ``operation``) and
    ``endpoint`` where it matters.
    """
    if model is not None and response.is_success:
        try:
            parsed = _envelope(model).model_validate_json(response.content)
        except ValidationError:
            pass  # not a clean answer: the slow path below says exactly what is wrong
        else:
            if not parsed.errors and parsed.data is not None:
                return parsed.data
    who = subject(call, operation)
    body = _graphql_body(response)
    if body is None:
        if not response.is_success:
            error = status_error(response, who, endpoint)
            error.operation, error.call = operation, call
            raise error
        place = endpoint or "the Kili API"
        hint = path_hint(endpoint) if endpoint is not None else ""
        raise InvalidResponseError(
            f"{who}: {place} answered HTTP {response.status_code} with a body that is not a "
            f"GraphQL result: {response.text[:200]!r}.{hint}",
            status_code=response.status_code,
            operation=operation,
            call=call,
        )
    if body.get("errors"):
        raise graphql_error(body, response.status_code, operation, call, endpoint)
    data = body.get("data")
    if not isinstance(data, dict):
        raise InvalidResponseError(
            f"{who}: the Kili API returned no data and no errors",
            status_code=response.status_code,
            operation=operation,
            call=call,
        )
    if model is None:
        return data
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidResponseError(
            f"{who}: the Kili API answered with data that does not match the schema: "
            f"{exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}",
            status_code=response.status_code,
            operation=operation,
            call=call,
        ) from None


class KiliGraphQLClient(GeneratedClient):
    """Every generated operation as a typed method (``await gql.count_labels(where=...)``),
    sent with the client's retry policy and headers. Reached as ``kili.graphql``."""

    def __init__(
        self,
        *,
        url: str,
        http: httpx.AsyncClient,
        headers: dict[str, str],
        policy: RetryPolicy,
        endpoint: Endpoint | None = None,
    ) -> None:
        super().__init__(url=url, http_client=cast(Any, http))
        self._http = http
        self._request_headers = headers  # holds the API key: never logged or shown
        self.policy = policy
        self.endpoint = endpoint or Endpoint(url)
        """``url`` and how it was chosen, as errors name it."""

    def __repr__(self) -> str:
        return f"KiliGraphQLClient(url={self.url!r})"

    async def execute(
        self,
        query: str,
        operation_name: str | None = None,
        variables: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send one operation; resend it only where that is safe (see ``_core.http``)."""
        call = current()
        payload: dict[str, Any] = {"query": query}
        if operation_name is not None:
            payload["operationName"] = operation_name
        if variables:
            payload["variables"] = {k: v for k, v in variables.items() if v is not UNSET}
        try:
            content = pydantic_core.to_json(payload, by_alias=True, exclude_none=True)
        except pydantic_core.PydanticSerializationError as exc:
            raise InvalidRequestError.from_message(
                f"{subject(call, operation_name)}: the request's variables are not JSON: {exc}",
                "BAD_USER_INPUT",
                operation=operation_name,
                call=call,
            ) from None
        headers = {**self._request_headers, **kwargs.pop("headers", {})}

        async def attempt() -> httpx.Response:
            return await self._http.post(self.url, content=content, headers=headers, **kwargs)

        what = f"the Kili API ({operation_name})" if operation_name else "the Kili API"
        kind = operation_kind(query, operation_name)
        try:
            response = await self.policy.send(
                attempt,
                idempotent=kind == "query",
                what=what,
                subject=subject(call, operation_name),
                endpoint=self.endpoint,
                is_answer=lambda r: _graphql_body(r) is not None,
                check_body=True,
            )
        except APIError as exc:
            exc.operation, exc.call = operation_name, call
            if exc.outcome_unknown and kind == "mutation":
                raise MutationOutcomeUnknownError(
                    exc,
                    subject=subject(call, operation_name),
                    identifiers=identifiers(variables),
                    operation=operation_name,
                    call=call,
                ) from exc
            raise
        response.extensions[_OPERATION_KEY] = operation_name
        response.extensions[_CALL_KEY] = call
        return response

    def _read(self, response: httpx.Response, model: type[BaseModel] | None) -> Any:
        operation = response.extensions.get(_OPERATION_KEY)
        call = response.extensions.get(_CALL_KEY)
        try:
            return read_result(response, operation, model, call=call, endpoint=self.endpoint)
        except APIError as exc:
            exc.request_id = request_id(response)
            exc.attempts = response.extensions.get(ATTEMPTS_KEY, 1)
            raise

    def get_data(self, response: Any) -> Any:
        """The operation's result model parsed from the response (raises typed errors)."""
        operation = response.extensions.get(_OPERATION_KEY)
        return self._read(response, result_model(operation) if operation else None)

    async def run(self, document: str, operation: str | None, variables: dict[str, Any]) -> Any:
        """Run any document; return its ``data`` as a dict (raises typed errors)."""
        response = await self.execute(document, operation, variables)
        return self._read(response, None)

    async def run_typed(
        self,
        document: str,
        operation: str,
        variables: dict[str, Any],
        model: type[BaseModel] | None = None,
    ) -> Any:
        """Run ``document``; return its ``data`` as ``model`` (default: the generated
        result model of ``operation``)."""
        response = await self.execute(document, operation, variables)
        return self._read(response, model or result_model(operation))

    def execute_ws(self, query: str, *args: Any, **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
        """Subscriptions are not opened here (the generated method would call this)."""
        raise KiliInputError(
            "kili.graphql does not open subscriptions: use "
            "`kili.label_created_or_updated(project_id)` (iterate it, or pass a callback)."
        )

    async def __aexit__(self, *_: object) -> None:
        """The HTTP pool belongs to the AsyncKili: leaving this client does not close it."""
