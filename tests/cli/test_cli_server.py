"""``aiokili server``: start-up lines that fit 80 columns, a clear busy-port message."""

from __future__ import annotations

import socket
import subprocess
import sys

from typer.testing import CliRunner

from aiokili.cli import _app


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
