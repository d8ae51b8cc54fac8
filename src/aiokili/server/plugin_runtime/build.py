"""Plugin builds: an uploaded zip becomes a runnable folder, off the request path.

The zip is unpacked safely (no absolute paths, ``..`` or links; at most ``max_files`` files
and ``max_unpacked_bytes`` bytes); ``main.py`` must define ``class PluginHandler(...)``;
``requirements.txt`` (package names of the index only: ``aiokili.plugins.requirements``) is
installed with ``pip install --target`` into the plugin's own ``deps`` folder, by a pip
contained like a run (:mod:`.confine`: its cgroups, Landlock: it writes only that folder and
its scratch folder; killed whole when it ends), with the server's pip settings
(``PIP_*`` variables, ``pip.conf``) and no other variable of the server's. The plugin's environment is the server's interpreter with, first on
``sys.path``, its ``deps``, then the packages every plugin gets (``PluginLimits.requirements``,
e.g. ``kili`` as the platform preinstalls it: installed once per server data folder and
shared). No venv is created: a plugin without requirements builds in milliseconds. A
failure becomes build errors, pip's own message included.
"""

from __future__ import annotations

import ast
import asyncio
import functools
import hashlib
import json
import os
import shutil
import sys
import zipfile
from pathlib import Path, PurePosixPath

from ...plugins.requirements import refused_requirements
from ..settings import PluginLimits
from ..store.db import in_thread
from . import sandbox
from .confine import Containment

# what pip may read besides the packages: its configuration (the server's package index)
_PIP_CONFIG = ("/etc/pip.conf", "/etc/xdg/pip")
_BOOT = "import runpy, sys; runpy.run_path(sys.argv[1], run_name='__main__')"


class BuildError(Exception):
    """A reason the archive cannot become a runnable plugin."""


def unpack(archive: Path, dest: Path, limits: PluginLimits) -> None:
    """Extract ``archive`` into ``dest``, refusing escapes, links and oversized content."""
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as exc:
        raise BuildError(f"The uploaded archive is not a valid zip file: {exc}") from exc
    with zf:
        members = [m for m in zf.infolist() if not m.is_dir()]
        if len(members) > limits.max_files:
            raise BuildError(
                f"The archive holds {len(members)} files, over the limit of {limits.max_files}."
            )
        total = 0
        for member in members:
            path = PurePosixPath(member.filename.replace("\\", "/"))
            if path.is_absolute() or ".." in path.parts or not path.parts:
                raise BuildError(
                    f"Refused archive member {member.filename!r}: its path "
                    "leaves the plugin folder."
                )
            if (member.external_attr >> 16) & 0o170000 == 0o120000:
                raise BuildError(f"Refused archive member {member.filename!r}: symbolic link.")
            target = dest.joinpath(*path.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(member) as src, target.open("wb") as out:
                while chunk := src.read(1024 * 1024):
                    total += len(chunk)
                    if total > limits.max_unpacked_bytes:
                        raise BuildError(
                            f"The archive unpacks to more than {limits.max_unpacked_bytes:,} "
                            "bytes (the limit)."
                        )
                    out.write(chunk)


def check_entry_point(src: Path) -> None:
    """``main.py`` must exist, compile, and define ``class PluginHandler`` with a base class."""
    main = src / "main.py"
    if not main.is_file():
        raise BuildError("The plugin has no main.py at the root of its archive.")
    try:
        tree = ast.parse(main.read_text(encoding="utf-8"), "main.py")
    except (SyntaxError, UnicodeDecodeError) as exc:
        raise BuildError(f"main.py does not compile: {exc}") from exc
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "PluginHandler" and node.bases:
            return
    raise BuildError("main.py must define `class PluginHandler(PluginCore)` at top level.")


@functools.lru_cache(maxsize=256)
def _imports_kili(main: Path) -> bool:
    """Whether the plugin's ``main.py`` imports the official ``kili`` package."""
    try:
        tree = ast.parse(main.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "kili":
            return True
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "kili" for a in node.names):
            return True
    return False


class Builder:
    """Builds plugin versions under ``root`` (``<plugin id>/<version>/{src,deps}``)."""

    def __init__(self, root: Path, limits: PluginLimits, containment: Containment) -> None:
        self.root, self.limits, self.containment = root, limits, containment
        self._shared: asyncio.Future[list[str]] | None = None

    def folder(self, plugin_id: str, version: int) -> Path:
        return self.root / plugin_id / str(version)

    def shared_deps(self) -> Path | None:
        """The folder of the packages every plugin gets, if any are configured."""
        if not self.limits.requirements:
            return None
        key = hashlib.sha256("\n".join(sorted(self.limits.requirements)).encode()).hexdigest()
        return self.root / "_shared" / key[:16]

    def import_path(self, plugin_id: str, version: int) -> tuple[list[str], list[str]]:
        """Folders before and after the server's own packages on a run's ``sys.path``.

        The plugin's ``deps`` always go first. The shared packages go first for a plugin
        written for the official SDK (``kili`` and its pinned dependencies are what it was
        written against) and last for the others, whose aiokili must keep its own
        dependencies.
        """
        where = self.folder(plugin_id, version)
        own = [str(where / "deps")] if (where / "deps").is_dir() else []
        shared = self.shared_deps()
        if shared is None or not shared.is_dir():
            return own, []
        if _imports_kili(where / "src" / "main.py"):
            return [*own, str(shared)], []
        return own, [str(shared)]

    async def build(self, plugin_id: str, version: int, archive: Path) -> list[str]:
        """Unpack, check and install one version; its build errors (none: it can run)."""
        where = self.folder(plugin_id, version)
        src = where / "src"
        try:
            await in_thread(shutil.rmtree, where, True)
            src.mkdir(parents=True)
            await in_thread(unpack, archive, src, self.limits)
            await in_thread(check_entry_point, src)
        except BuildError as exc:
            return [str(exc)]
        if errors := await self._shared_install():
            return errors
        requirements = src / "requirements.txt"
        text = requirements.read_text(encoding="utf-8") if requirements.is_file() else ""
        if refused := refused_requirements(text):
            return refused
        if text.strip():
            return await self.pip(requirements, where / "deps")
        return []

    async def prepare(self) -> None:
        """Install the shared packages now (at start-up), not at the first build."""
        await self._shared_install()

    async def _shared_install(self) -> list[str]:
        """Install the shared packages once (builds meanwhile wait for it)."""
        if self._shared is None:
            self._shared = asyncio.ensure_future(self._install_shared())
        errors = await asyncio.shield(self._shared)
        if errors:
            self._shared = None  # tried again by the next build
        return errors

    async def _install_shared(self) -> list[str]:
        target = self.shared_deps()
        if target is None or (target / ".installed").is_file():
            return []
        await in_thread(shutil.rmtree, target, True)
        target.mkdir(parents=True)
        requirements = target.with_suffix(".txt")
        requirements.write_text("\n".join(self.limits.requirements) + "\n", encoding="utf-8")
        errors = await self.pip(requirements, target)
        if errors:
            return [
                f"The packages every plugin gets ({', '.join(self.limits.requirements)}) "
                f"could not be installed: {errors[0]}"
            ]
        (target / ".installed").touch()
        return []

    async def pip(self, requirements: Path, target: Path) -> list[str]:
        """``pip install --target``, contained (see the module docstring); pip's message as
        the error if it fails or takes too long."""
        await in_thread(functools.partial(target.mkdir, parents=True, exist_ok=True))
        box = self.containment.box("build")
        pip_env = {k: v for k, v in os.environ.items() if k.startswith("PIP_")}
        sources = [p for k in ("PIP_FIND_LINKS", "PIP_CERT") for p in pip_env.get(k, "").split()]
        readable = [
            requirements.parent,
            *(Path(p) for p in _PIP_CONFIG),
            *(Path(p) for p in sources if p[:1] == "/"),
        ]
        spec = box.spec(readable, write=(target,))
        pip = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check"]
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-c", _BOOT, sandbox.__file__, json.dumps(spec), "--"),
            *pip,
            *("--no-input", "--quiet", "--target", str(target), "-r", str(requirements)),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**box.env(), **pip_env},
            cwd=box.scratch,
            start_new_session=True,
        )
        assert process.stdout is not None
        reader = asyncio.ensure_future(process.stdout.read())
        try:
            await asyncio.wait_for(process.wait(), self.limits.pip_timeout_s)
        except BaseException as exc:  # over time, or the server stops: pip stops too
            process.kill()
            box.close_now()
            reader.cancel()
            await asyncio.shield(process.wait())
            if not isinstance(exc, asyncio.TimeoutError):
                raise
            return [
                f"pip install -r {requirements.name} took over {self.limits.pip_timeout_s:g} s."
            ]
        await box.close()  # what the build started (a setup.py's children) ends with it
        try:
            output = await asyncio.wait_for(reader, 2.0)
        except asyncio.TimeoutError:  # held open by a process out of reach (no cgroups)
            output = b""
        if process.returncode != 0:
            message = output.decode(errors="replace").strip()
            return [
                f"pip install -r {requirements.name} failed (exit {process.returncode}):\n{message}"
            ]
        return []
