"""pytest plugin: test your own Kili code against the local server, with no mocks.

Installed with aiokili (needs the ``server`` extra) and loaded by pytest automatically
(entry point ``pytest11``). The async fixtures (``kili``, ``kili_project``) run under the
plugin that runs the test: anyio's (tests marked ``@pytest.mark.anyio``; an ``anyio_backend``
fixture returning ``"asyncio"`` runs them on asyncio only) or pytest-asyncio's, in strict
mode (tests marked ``@pytest.mark.asyncio``) as in auto mode.

Fixtures:

* ``kili_server`` (session): a started :class:`~aiokili.server.LocalServer` with a fresh
  in-memory database on a free loopback port; ``.url`` and ``.api_key``.
* ``kili_fresh_server`` (function): a server of its own for one test, empty database.
  Tests marked ``@pytest.mark.kili_fresh_server`` get it through ``kili``, ``kili_env`` and
  ``kili_project`` instead of the shared one.
* Faults: a test marked ``@pytest.mark.kili_faults("503=0.1,reset_after=0.05;seed=7")``
  (optionally ``rate_limit="600/min"``) gets a fresh server injecting those faults (syntax
  in the docs' "Faults" page); ``kili_fresh_server.faults.summary()`` counts them. The
  options ``--kili-faults SPEC`` and ``--kili-rate-limit LIMIT`` put the shared
  ``kili_server`` under faults, to run a whole suite so.
* ``kili`` (function): an :class:`~aiokili.AsyncKili` bound to that server, closed after
  the test. Override ``kili_client_options`` (a dict of ``AsyncKili`` keyword arguments)
  to change its options.
* ``kili_project`` (function): ``await kili_project(json_interface=..., input_type="IMAGE")``
  creates a project and returns its id; the projects are deleted after the test.
* ``kili_env`` (function): sets ``KILI_API_ENDPOINT`` and ``KILI_API_KEY`` for one test, so
  ``AsyncKili()`` (and the official ``Kili()``) built by your own code reach the server.
* ``kili_user`` (function): ``await kili_user(role="LABELER", project_id=p)`` creates a user
  of the server's organization, makes it a member of the project with that role (through
  ``kili``, the organization's admin) and returns an ``AsyncKili`` logged in as it, closed
  after the test. Without ``project_id``: a user of the organization only
  (``organization_role="USER"`` or ``"ADMIN"``).
* ``kili_other_organization`` (function): an ``AsyncKili`` logged in as the ADMIN of a new,
  second organization of the same server (nothing of the first is visible to it).

The keys of the users these fixtures make are made on the server side (``LocalServer.
create_user``): the API stores keys hashed and has no way to hand one out.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

import pytest

try:
    import pytest_asyncio
except ImportError:  # pytest-asyncio is optional: anyio's plugin comes with aiokili
    pytest_asyncio = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from .client import AsyncKili
    from .models import ProjectRole
    from .server import LocalServer

FRESH_MARKER = "kili_fresh_server"
FAULTS_MARKER = "kili_faults"


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef[Any]) -> Iterator[Any]:
    """Without the ``server`` extra, this plugin's fixtures fail with one line saying which
    extra to install (``aiokili.server`` raises it), not a traceback into aiokili."""
    try:
        return (yield)
    except ModuleNotFoundError as exc:
        if "aiokili[server]" not in str(exc):  # not aiokili.server's own message
            raise
        missing = str(exc)
    # the public fixture's name (``kili``), not that of its copy per async plugin
    name = fixturedef.argname.lstrip("_").partition("_on_")[0]
    pytest.fail(f"{name}: {missing}", pytrace=False)  # without the chain


#: The interface ``kili_project`` uses when given none: one single-choice classification job.
DEFAULT_INTERFACE: dict[str, Any] = {
    "jobs": {
        "CLASSIFICATION_JOB": {
            "mlTask": "CLASSIFICATION",
            "content": {
                "categories": {"CAT": {"name": "cat"}, "DOG": {"name": "dog"}},
                "input": "radio",
            },
            "instruction": "What is it?",
            "required": 1,
            "isChild": False,
        }
    }
}


class ProjectFactory(Protocol):
    """The ``kili_project`` fixture: creates a project, returns its id.

    ``json_interface`` defaults to :data:`DEFAULT_INTERFACE`, ``title`` to a numbered one;
    other keyword arguments go to :meth:`~aiokili.AsyncKili.create_project`.
    """

    def __call__(
        self,
        json_interface: dict[str, Any] | None = None,
        input_type: str = "IMAGE",
        title: str | None = None,
        **kwargs: Any,
    ) -> Awaitable[str]: ...


class UserFactory(Protocol):
    """The ``kili_user`` fixture: a new user, and a client logged in as it.

    ``role``: a project role (``"LABELER"``, ``"REVIEWER"``, ``"TEAM_MANAGER"``, ``"ADMIN"``)
    in ``project_id``, given by the organization's admin; ``organization_role``: ``"USER"``
    (default) or ``"ADMIN"``; ``email``: default a new one.
    """

    def __call__(
        self,
        role: ProjectRole | str | None = None,
        *,
        project_id: str | None = None,
        organization_role: str = "USER",
        email: str | None = None,
    ) -> Awaitable[AsyncKili]: ...


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aiokili", "aiokili's local Kili server")
    group.addoption(
        "--kili-faults",
        metavar="SPEC",
        default=None,
        help="inject these faults into the shared kili_server, e.g. '503=0.1;seed=7'",
    )
    group.addoption(
        "--kili-rate-limit",
        metavar="LIMIT",
        default=None,
        help="rate limit of the shared kili_server per API key, e.g. 600/min",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{FRESH_MARKER}: give this test a local Kili server of its own (empty database) "
        "through the kili, kili_env and kili_project fixtures",
    )
    config.addinivalue_line(
        "markers",
        f"{FAULTS_MARKER}(spec, rate_limit=None): give this test a local Kili server of its "
        "own that injects these faults (e.g. '503=0.1,reset_after=0.05;seed=7')",
    )


@pytest.fixture(scope="session")
def kili_server(request: pytest.FixtureRequest) -> Iterator[LocalServer]:
    """A local Kili server (fresh in-memory database) shared by the test session (with the
    faults of ``--kili-faults`` / ``--kili-rate-limit``, if given)."""
    from .server import LocalServer

    faults = request.config.getoption("--kili-faults", None)
    rate_limit = request.config.getoption("--kili-rate-limit", None)
    with LocalServer(faults=faults, rate_limit=rate_limit) as server:
        yield server


@pytest.fixture
def kili_fresh_server(request: pytest.FixtureRequest) -> Iterator[LocalServer]:
    """A local Kili server of its own for one test, with an empty database (and the
    faults of the test's ``kili_faults`` marker, if any)."""
    from .server import LocalServer

    marker = request.node.get_closest_marker(FAULTS_MARKER)
    options: dict[str, Any] = {}
    if marker is not None:
        options = {"faults": marker.args[0] if marker.args else None, **marker.kwargs}
    with LocalServer(**options) as server:
        yield server


def _server_for(request: pytest.FixtureRequest) -> LocalServer:
    fresh = request.node.get_closest_marker(FRESH_MARKER) or request.node.get_closest_marker(
        FAULTS_MARKER
    )
    server: LocalServer = request.getfixturevalue("kili_fresh_server" if fresh else "kili_server")
    return server


@pytest.fixture
def kili_client_options() -> dict[str, Any]:
    """Keyword arguments of the ``kili`` fixture's ``AsyncKili`` (override to change them)."""
    return {}


@pytest.fixture
def kili(request: pytest.FixtureRequest) -> AsyncKili:
    """An ``AsyncKili`` bound to the local server (a fresh one for marked tests), closed
    after the test."""
    client: AsyncKili = request.getfixturevalue(_for_runner(request, "kili"))
    return client


@contextlib.asynccontextmanager
async def _client(
    request: pytest.FixtureRequest, options: dict[str, Any]
) -> AsyncIterator[AsyncKili]:
    from .client import AsyncKili

    server = _server_for(request)
    async with AsyncKili(api_key=server.api_key, api_endpoint=server.url, **options) as client:
        yield client


def _for_runner(request: pytest.FixtureRequest, fixture: str) -> str:
    """The async fixture behind ``fixture`` for the plugin that runs this test: the same
    body, declared once for anyio's plugin and once for pytest-asyncio (whose strict mode
    sets up only the fixtures declared with ``pytest_asyncio.fixture``)."""
    if pytest_asyncio is not None and pytest_asyncio.is_async_test(request.node):
        return f"_{fixture}_on_pytest_asyncio"
    if "anyio_backend" not in request.fixturenames:
        pytest.fail(
            f"the {fixture} fixture is async: request it from an `async def` test marked "
            "`@pytest.mark.anyio` (anyio's plugin) or `@pytest.mark.asyncio` (pytest-asyncio)",
            pytrace=False,
        )
    return f"_{fixture}_on_anyio"


@pytest.fixture
async def _kili_on_anyio(
    request: pytest.FixtureRequest, kili_client_options: dict[str, Any]
) -> AsyncIterator[AsyncKili]:
    async with _client(request, kili_client_options) as client:
        yield client


if pytest_asyncio is not None:

    @pytest_asyncio.fixture
    async def _kili_on_pytest_asyncio(
        request: pytest.FixtureRequest, kili_client_options: dict[str, Any]
    ) -> AsyncIterator[AsyncKili]:
        async with _client(request, kili_client_options) as client:
            yield client


@contextlib.asynccontextmanager
async def project_factory(kili: AsyncKili) -> AsyncIterator[ProjectFactory]:
    """What ``kili_project`` gives, outside pytest too: a function creating projects
    (see :class:`ProjectFactory`), whose projects are deleted on exit."""
    from .errors import KiliError

    created: list[str] = []

    async def create(
        json_interface: dict[str, Any] | None = None,
        input_type: str = "IMAGE",
        title: str | None = None,
        **kwargs: Any,
    ) -> str:
        project = await kili.create_project(
            title=title or f"test project {len(created) + 1}",
            input_type=input_type,  # type: ignore[arg-type]  # checked by create_project
            json_interface=DEFAULT_INTERFACE if json_interface is None else json_interface,
            **kwargs,
        )
        created.append(project.id)
        return project.id

    try:
        yield create
    finally:
        for project_id in reversed(created):
            with contextlib.suppress(KiliError):  # e.g. the test deleted it itself
                await kili.delete_project(project_id)


@pytest.fixture
def kili_project(request: pytest.FixtureRequest) -> ProjectFactory:
    """``await kili_project(json_interface=..., input_type="IMAGE")`` -> a new project's id.

    ``json_interface`` defaults to :data:`DEFAULT_INTERFACE`; other keyword arguments go to
    ``create_project``. The projects are deleted after the test.
    """
    factory: ProjectFactory = request.getfixturevalue(_for_runner(request, "kili_project"))
    return factory


@pytest.fixture
async def _kili_project_on_anyio(kili: AsyncKili) -> AsyncIterator[ProjectFactory]:
    async with project_factory(kili) as create:
        yield create


if pytest_asyncio is not None:

    @pytest_asyncio.fixture
    async def _kili_project_on_pytest_asyncio(kili: AsyncKili) -> AsyncIterator[ProjectFactory]:
        async with project_factory(kili) as create:
            yield create


@contextlib.asynccontextmanager
async def user_factory(
    server: LocalServer, admin: AsyncKili, options: dict[str, Any]
) -> AsyncIterator[UserFactory]:
    """What ``kili_user`` gives, outside pytest too: a function making users (see
    :class:`UserFactory`) whose clients are closed on exit."""
    import secrets

    from .client import AsyncKili

    async with contextlib.AsyncExitStack() as clients:

        async def create(
            role: ProjectRole | str | None = None,
            *,
            project_id: str | None = None,
            organization_role: str = "USER",
            email: str | None = None,
        ) -> AsyncKili:
            if (role is None) != (project_id is None):
                raise TypeError(
                    "kili_user: give role and project_id together (a project role is held "
                    "in a project), or neither for a user of the organization only."
                )
            name = str(getattr(role, "value", role) or organization_role).lower()
            address = email or f"{name}-{secrets.token_hex(4)}@aiokili.test"
            account = server.create_user(address, organization_role)
            if role is not None and project_id is not None:
                await admin.append_to_roles(project_id, account.email, role)  # type: ignore[arg-type]
            client = AsyncKili(api_key=account.api_key, api_endpoint=server.url, **options)
            return await clients.enter_async_context(client)

        yield create


@pytest.fixture
def kili_user(request: pytest.FixtureRequest) -> UserFactory:
    """``await kili_user(role="LABELER", project_id=p)`` -> an ``AsyncKili`` logged in as a
    new member of the project with that role (see :class:`UserFactory`)."""
    factory: UserFactory = request.getfixturevalue(_for_runner(request, "kili_user"))
    return factory


@pytest.fixture
async def _kili_user_on_anyio(
    request: pytest.FixtureRequest, kili: AsyncKili, kili_client_options: dict[str, Any]
) -> AsyncIterator[UserFactory]:
    async with user_factory(_server_for(request), kili, kili_client_options) as create:
        yield create


@pytest.fixture
def kili_other_organization(request: pytest.FixtureRequest) -> AsyncKili:
    """An ``AsyncKili`` logged in as the ADMIN of a new organization of the same server."""
    client: AsyncKili = request.getfixturevalue(_for_runner(request, "kili_other_organization"))
    return client


@contextlib.asynccontextmanager
async def other_organization(
    server: LocalServer, options: dict[str, Any]
) -> AsyncIterator[AsyncKili]:
    """What ``kili_other_organization`` gives, outside pytest too."""
    import secrets

    from .client import AsyncKili

    tag = secrets.token_hex(4)
    account = server.create_organization(f"other organization {tag}", f"admin-{tag}@other.test")
    async with AsyncKili(api_key=account.api_key, api_endpoint=server.url, **options) as client:
        yield client


@pytest.fixture
async def _kili_other_organization_on_anyio(
    request: pytest.FixtureRequest, kili_client_options: dict[str, Any]
) -> AsyncIterator[AsyncKili]:
    async with other_organization(_server_for(request), kili_client_options) as client:
        yield client


if pytest_asyncio is not None:

    @pytest_asyncio.fixture
    async def _kili_user_on_pytest_asyncio(
        request: pytest.FixtureRequest, kili: AsyncKili, kili_client_options: dict[str, Any]
    ) -> AsyncIterator[UserFactory]:
        async with user_factory(_server_for(request), kili, kili_client_options) as create:
            yield create

    @pytest_asyncio.fixture
    async def _kili_other_organization_on_pytest_asyncio(
        request: pytest.FixtureRequest, kili_client_options: dict[str, Any]
    ) -> AsyncIterator[AsyncKili]:
        async with other_organization(_server_for(request), kili_client_options) as client:
            yield client


@pytest.fixture
def kili_env(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> LocalServer:
    """Point ``KILI_API_ENDPOINT`` / ``KILI_API_KEY`` at the local server for one test."""
    server = _server_for(request)
    monkeypatch.setenv("KILI_API_ENDPOINT", server.url)
    monkeypatch.setenv("KILI_API_KEY", server.api_key)
    return server
