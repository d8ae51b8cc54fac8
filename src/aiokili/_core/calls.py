"""The public call a request is made for, so errors name what the user called
(``projects()``), not the GraphQL operation that was sent (``CountProjects``).

Every public method of a domain is wrapped by :func:`public` (``Domain.__init_subclass__``):
it sets :data:`CALL` while it runs, unless a call is already set, so a public method that
calls another internally is still named as the user called it. Requests started later, by
an object the call returned (a listing's pages, fetched in prefetch tasks), set the name
the object captured when it was made (:func:`calling`); code of the user's run by a call
(a subscription's callback) runs under ``calling(None)`` so its own calls are named.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import AsyncGenerator, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

CALL: ContextVar[str | None] = ContextVar("aiokili.call", default=None)
"""Name of the public method the current code runs for (``"projects"``), or None."""

F = TypeVar("F", bound=Callable[..., Any])


def current() -> str | None:
    """The public method the current request is made for, if any."""
    return CALL.get()


@contextmanager
def calling(name: str | None) -> Iterator[None]:
    """Run the block as part of the public call ``name`` (None: as part of no call)."""
    token = CALL.set(name)
    try:
        yield
    finally:
        CALL.reset(token)


def public(method: F) -> F:
    """``method`` naming itself in :data:`CALL` while it runs, unless a call is already set
    (works for functions, coroutine functions and async generator functions)."""
    name = method.__name__
    wrapper: Callable[..., Any]
    if inspect.isasyncgenfunction(method):

        async def generator(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, None]:
            items = method(*args, **kwargs)
            try:
                while True:
                    with calling(CALL.get() or name):
                        try:
                            item = await items.__anext__()
                        except StopAsyncIteration:
                            return
                    yield item
            finally:
                await items.aclose()

        wrapper = generator
    elif inspect.iscoroutinefunction(method):

        async def coroutine(*args: Any, **kwargs: Any) -> Any:
            with calling(CALL.get() or name):
                return await method(*args, **kwargs)

        wrapper = coroutine
    else:

        def function(*args: Any, **kwargs: Any) -> Any:
            with calling(CALL.get() or name):
                return method(*args, **kwargs)

        wrapper = function
    return functools.wraps(method)(wrapper)  # type: ignore[return-value]


def wrap_public_methods(cls: type) -> None:
    """Wrap every public function defined in ``cls`` itself with :func:`public`."""
    for attr, value in list(vars(cls).items()):
        if not attr.startswith("_") and inspect.isfunction(value):
            setattr(cls, attr, public(value))


def user_stacklevel() -> int:
    """The ``stacklevel`` that makes :func:`warnings.warn`, called by the caller of this
    function, point at the user's line: the first frame outside aiokili (the wrappers of
    :func:`public` and internal helpers are skipped however many there are)."""
    frame = sys._getframe(1)
    level = 1
    while (
        frame.f_back is not None
        and frame.f_globals.get("__name__", "").partition(".")[0] == "aiokili"
    ):
        frame = frame.f_back
        level += 1
    return level
