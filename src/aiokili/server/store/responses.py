"""Labels checked against their project's json interface before they are written, as the
platform does: a label that does not match is refused with ``[jsonResponseMalformed]`` and
nothing of the call is written. The check is the client's own
(``aiokili._core.label_validation``); the interfaces are read once per write and parsed
once per distinct text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..._core.interface import Interface
from ..._core.label_validation import label_problem
from ...errors import InvalidInterfaceError
from .. import json_input
from ..errors import ServerError
from .conn import Conn
from .db import chunks, marks

if TYPE_CHECKING:
    pass

MALFORMED = "jsonResponseMalformed"
"""The platform's key for a label that does not match the interface."""


@lru_cache(maxsize=64)
def _interface(text: str) -> Interface | None:
    """The stored interface as models; None if it has not even the interface's shape (an
    older database file): its labels are then not checked."""
    try:
        return Interface.read(text)
    except InvalidInterfaceError:
        return None


def parse(text: str, arg: str) -> Any:
    """A label's jsonResponse text as JSON; ``BAD_USER_INPUT`` naming ``arg`` if it is not."""
    return json_input.loads(text, arg)  # strict: no NaN, bounded depth and integers


def check(
    c: Conn,
    projects: Sequence[str],
    responses: Sequence[Any],
    arg: Callable[[int], str],
) -> None:
    """Refuse the call if ``responses[i]`` (a label of project ``projects[i]``) does not
    match that project's interface; ``arg(i)`` names it in the error."""
    stored: dict[str, tuple[str, str | None]] = {}
    for part in chunks(sorted(set(projects))):
        sql = (
            f"SELECT id, json_interface, input_type FROM projects WHERE id IN ({marks(len(part))})"
        )
        stored.update((r[0], (r[1] or "{}", r[2])) for r in c.execute(sql, list(part)))
    for i, (project_id, response) in enumerate(zip(projects, responses, strict=True)):
        text, input_type = stored.get(project_id, ("{}", None))
        interface = _interface(text)
        if interface is None:
            continue
        problem = label_problem(interface, response, input_type)
        if problem is not None:
            raise ServerError(f"[{MALFORMED}] {arg(i)}: {problem.message} Nothing was written.")


def check_interface(text: str | None, arg: str) -> None:
    """Refuse an interface the platform would refuse (``BAD_USER_INPUT`` listing why)."""
    if not text:
        return
    interface = json_input.loads(text, arg)
    if not isinstance(interface, dict):
        raise ServerError(
            f'{arg} must be the JSON text of an object like {{"jobs": {{...}}}}, '
            f"got {type(interface).__name__}."
        )
    try:
        Interface.from_json(interface)
    except InvalidInterfaceError as exc:
        raise ServerError(f"{arg}: {exc}") from None
