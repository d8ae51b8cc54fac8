"""``aiokili server``: start-up lines that fit 80 columns, a clear busy-port message."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aiokili.cli import _app
from aiokili.errors import KiliInputError
from aiokili.server import LocalServer


def test_startup_lines_fit_in_80_columns() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiokili.cli", "server", "--port", "0", "--db", ":memory:"],
        stdout=subprocess.PIPE, text=True, env={"COLUMNS": "80", "PATH": ""},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        assert lines[0].startswith("GraphQL endpoint: http://127.0.0.1:")
        assert lines[1].startswith("API key: ")
        assert all(len(line.rstrip("\n")) <= 80 for line in lines), lines
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_port_in_use_is_one_line_and_exit_1() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(_app(), ["server", "--port", str(port), "--db", ":memory:"])
    assert result.exit_code == 1
    assert result.output.strip() == (f"Port {port} is already in use: pass --port N or --port 0")
    assert "Traceback" not in result.output


def test_faults_are_counted_and_printed_at_exit() -> None:
    import httpx

    proc = subprocess.Popen(
        [sys.executable, "-m", "aiokili.cli", "server", "--port", "0", "--db", ":memory:",
         "--faults", "503=1; seed=4", "--rate-limit", "600/min"],
        stdout=subprocess.PIPE, text=True, env={"COLUMNS": "80", "PATH": ""},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split(": ", 1)[1].strip()
        key = proc.stdout.readline().split(": ", 1)[1].strip()
        answer = httpx.post(
            url,
            json={"query": "{ viewer { id } }"},
            headers={"Authorization": f"X-API-Key: {key}"},
        )
        assert answer.status_code == 503
        counts = httpx.get(url.split("/api/")[0] + "/faults").json()
        assert (counts["seed"], counts["by_kind"], counts["rate_limit"]) == (
            4,
            {"503": 1},
            "600/min",
        )
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=15)
    assert out.splitlines()[-2:] == [
        "Faults injected: 1 of 1 GraphQL requests (seed 4): 503: 1.",
        "Rate limit (600/min per API key): 0 requests refused with HTTP 429.",
    ]


def test_a_bad_fault_spec_is_one_line_and_exit_2() -> None:
    result = CliRunner().invoke(
        _app(), ["server", "--port", "0", "--db", ":memory:", "--faults", "503=lots"]
    )
    assert result.exit_code == 2
    assert result.output.strip() == (
        "Error: faults section 1 ('503=lots'): the rate of 503 is 'lots': give a share "
        "between 0 and 1 (0.05 is 5% of requests)."
    )


def test_plugin_cpus_below_a_hundredth_is_refused_before_the_server_starts() -> None:
    result = CliRunner().invoke(_app(), ["server", "--port", "0", "--plugin-cpus", "0"])
    assert result.exit_code == 2
    assert "--plugin-cpus" in result.output and "0.01" in result.output


def test_a_database_url_of_another_kind_is_refused_and_nothing_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = "mysql://kili:s3cret@db.example/kili"
    result = CliRunner().invoke(_app(), ["server", "--port", "0", "--db", url])
    assert result.exit_code == 2
    assert result.output.strip() == (
        "Error: db: the local server stores its data in SQLite or PostgreSQL, and got a "
        "mysql:// URL. Pass a file path (e.g. --db kili.sqlite3 or db='kili.sqlite3'), "
        "sqlite:///PATH, ':memory:', or postgresql://USER@HOST:PORT/DATABASE."
    )
    assert "s3cret" not in result.output
    assert list(tmp_path.iterdir()) == []  # before: a SQLite file at ./mysql:/...


def test_an_unreachable_postgresql_is_refused_without_its_password_and_nothing_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = "postgresql://kili:s3cret@127.0.0.1:1/kili"
    result = CliRunner().invoke(_app(), ["server", "--port", "0", "--db", url])
    assert result.exit_code == 2
    assert result.output.startswith(
        "Error: db: cannot connect to postgresql://kili@127.0.0.1:1/kili: connection failed"
    )
    assert "s3cret" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_sqlite_url_names_the_file(tmp_path: Path) -> None:
    db = tmp_path / "kili.sqlite3"
    with LocalServer(db=f"sqlite:///{db}"):
        pass
    assert db.is_file() and (tmp_path / "kili.sqlite3.files").is_dir()
    with pytest.raises(KiliInputError, match="mysql:// URL"):
        LocalServer(db="mysql://root@localhost/kili")
