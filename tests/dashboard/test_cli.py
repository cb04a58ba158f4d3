"""`shopstream dashboard`: what it serves and its one-line errors (serving itself is tested in test_browser.py)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dashboard import ENV_OUTPUTS, ENV_STACK
from dashboard.serve import APP, dashboard_env, streamlit_command
from pipeline.cli import app
from pipeline.settings import local_settings

runner = CliRunner()


def one_line_error(*args: str) -> str:
    result = runner.invoke(app, ["dashboard", *args], env={"SHOPSTREAM_DEBUG": None})
    assert result.exit_code != 0 and "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_a_port_in_use_is_refused_with_the_next_step(shopstream_home: Path):
    (shopstream_home / "busy").mkdir(exist_ok=True)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        if port < 1024:
            pytest.fail(f"the OS gave a privileged port {port}")
        message = one_line_error("--stack", "busy", "--port", str(port))
    assert f"port {port}" in message and f"--port {port + 1}" in message


def test_an_unknown_stack_is_refused(shopstream_home: Path):
    message = one_line_error("--stack", "nosuchstack")
    assert "unknown stack 'nosuchstack'" in message


def test_streamlit_serves_the_app_on_localhost_for_the_stack(shopstream_home: Path, tmp_path: Path):
    command = streamlit_command(8599)
    assert command[command.index("run") + 1] == str(APP) and Path(APP).exists()
    assert command[command.index("--server.address") + 1] == "127.0.0.1"
    assert command[command.index("--server.port") + 1] == "8599"
    assert command[command.index("--browser.gatherUsageStats") + 1] == "false"

    settings = local_settings("alice")
    outputs = tmp_path / "outputs.json"
    assert dashboard_env(settings)[ENV_STACK] == "alice"
    assert ENV_OUTPUTS not in dashboard_env(settings)
    assert dashboard_env(settings, outputs)[ENV_OUTPUTS] == str(outputs.resolve())
