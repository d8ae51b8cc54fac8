"""A throwaway PostgreSQL cluster for the tests that need one (issue 17).

The binaries come from the machine (``pg_config --bindir``, ``/usr/lib/postgresql/*/bin``,
``initdb`` on the PATH) or from the pip-installable ``pgserver`` package. The cluster lives
in a temporary folder, listens on a free port of 127.0.0.1 only, trusts local connections,
trades durability for speed (``fsync=off``: it is thrown away) and is stopped and removed
at the end. PostgreSQL refuses to run as root: as root the cluster runs as the
``postgres`` user (or ``nobody``).

When no PostgreSQL is found, the tests needing it are skipped with a one-line reason,
unless ``AIOKILI_REQUIRE_POSTGRES=1``: then they fail. ``.ci/run`` sets it, installs
``pgserver`` when the machine has no PostgreSQL, and gives every test run the binaries'
folder in ``AIOKILI_POSTGRES_BIN`` (``python tests/postgres_cluster.py`` prints it).
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REQUIRE = "AIOKILI_REQUIRE_POSTGRES"
HOW = "install PostgreSQL (e.g. apt-get install postgresql) or `pip install pgserver`"


def binaries() -> Path | None:
    """The folder holding ``initdb`` and ``postgres`` (``$AIOKILI_POSTGRES_BIN`` first), or
    None."""
    candidates: list[str] = [os.environ.get("AIOKILI_POSTGRES_BIN", "")]
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, timeout=10)
        candidates.append(out.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    if found := shutil.which("initdb"):
        candidates.append(str(Path(found).parent))
    with contextlib.suppress(ImportError):
        import pgserver  # type: ignore[import-not-found]

        candidates.append(str(Path(pgserver.__file__).parent / "pginstall" / "bin"))
    for folder in candidates:
        if folder and all((Path(folder) / name).is_file() for name in ("initdb", "postgres")):
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_as() -> pwd.struct_passwd | None:
    """The unprivileged user to run as when we are root (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError("running as root and no 'postgres' or 'nobody' user to run PostgreSQL as")


def _accepting(url: str) -> bool:
    """Whether the cluster at ``url`` takes connections (not merely its port open)."""
    import psycopg  # here: `python tests/postgres_cluster.py` runs before it is installed

    try:
        psycopg.connect(url, connect_timeout=2).close()
    except psycopg.OperationalError:
        return False
    return True


@contextlib.contextmanager
def cluster(bindir: Path) -> Iterator[str]:
    """Start a cluster; yield its URL (``postgresql://aiokili@127.0.0.1:<port>/postgres``)."""
    user = _run_as()
    root = Path(tempfile.mkdtemp(prefix="aiokili-pg-"))
    data, sockets = root / "data", root / "sockets"
    for folder in (data, sockets):
        folder.mkdir(mode=0o700)
        if user is not None:
            os.chown(folder, user.pw_uid, user.pw_gid)
    if user is not None:
        root.chmod(0o755)
    as_user = (
        {} if user is None else {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    )
    env = {"PATH": os.environ.get("PATH", ""), "LC_ALL": "C", "TZ": "UTC"}
    port = _free_port()
    log = (root / "postgres.log").open("wb")
    server = None
    try:
        subprocess.run(
            [str(bindir / "initdb"), "-D", str(data), "-U", "aiokili", "--auth=trust",
             "-E", "UTF8", "--no-locale", "--no-sync"],
            check=True, capture_output=True, env=env, cwd=root, timeout=120, **as_user,
        )  # fmt: skip
        server = subprocess.Popen(
            [str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-h", "127.0.0.1",
             "-k", str(sockets), "-c", "fsync=off", "-c", "synchronous_commit=off",
             "-c", "full_page_writes=off", "-c", "max_connections=200"],
            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root, **as_user,
        )  # fmt: skip
        url = f"postgresql://aiokili@127.0.0.1:{port}/postgres"
        deadline = time.monotonic() + 60
        while not _accepting(
            url
        ):  # the port opens before "the database system is starting up" ends
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "PostgreSQL did not start:\n" + (root / "postgres.log").read_text()[-2000:]
                )
            time.sleep(0.05)
        yield url
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(2)  # SIGINT: fast shutdown
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(10)
        log.close()
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def databases(url: str) -> Iterator[Callable[[], Any]]:
    """``make()`` -> a new store on a new database of the cluster at ``url`` (a copy of one
    database migrated once, so each costs a ``CREATE DATABASE``), dropped with its upload
    folder when the store closes."""
    import psycopg

    from aiokili.server.store import DatabaseStore, open_store
    from aiokili.server.store.postgres import PostgresDatabase

    base = url.rsplit("/", 1)[0]
    admin = psycopg.connect(url, autocommit=True)
    admin.execute("CREATE DATABASE aiokili_template")
    template_files = tempfile.mkdtemp(prefix="aiokili-pgt-")
    open_store(f"{base}/aiokili_template", template_files).close()
    shutil.rmtree(template_files, ignore_errors=True)
    made = itertools.count()

    class _Dropped(DatabaseStore):
        def __init__(self, name: str) -> None:
            self.name = name
            folder = Path(tempfile.mkdtemp(prefix="aiokili-pgfiles-"))
            super().__init__(PostgresDatabase(f"{base}/{name}", folder))

        def close(self) -> None:
            super().close()
            admin.execute(f"DROP DATABASE {self.name} WITH (FORCE)")
            shutil.rmtree(self.db.files_dir, ignore_errors=True)

    def make() -> DatabaseStore:
        name = f"aiokili_{os.getpid()}_{next(made)}"
        admin.execute(f"CREATE DATABASE {name} TEMPLATE aiokili_template")
        return _Dropped(name)

    try:
        yield make
    finally:
        admin.close()


if __name__ == "__main__":  # .ci/run: print the binaries' folder, or exit 1 when none
    import sys

    found = binaries()
    if found is None:
        sys.exit(1)
    print(found)
