"""Serve the dashboard: `streamlit run dashboard/app.py` on 127.0.0.1 for one stack (`shopstream dashboard`)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from dashboard import ENV_LOCAL, ENV_OUTPUTS, ENV_STACK
from pipeline.errors import ConfigError, ShopstreamError
from pipeline.processes import die_with_parent
from pipeline.settings import Settings
from pipeline.source.server import port_is_free

APP = Path(__file__).resolve().with_name("app.py")
HOST = "127.0.0.1"
DEFAULT_PORT = 8501


def streamlit_command(port: int, host: str = HOST) -> list[str]:
    """The `streamlit run` command line: local address only, no browser, no telemetry, no file watching."""
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.address", host,
        "--server.port", str(port),
        "--server.headless", "true",
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "minimal",
        "--theme.base", "light",
        "--theme.primaryColor", "#1565c0",
    ]  # fmt: skip


def dashboard_env(settings: Settings, outputs_file: Path | None = None) -> dict[str, str]:
    """The environment the app reads its stack from (everything else is inherited: home, credentials, overrides)."""
    env = {**os.environ, ENV_STACK: settings.stack}
    env.pop(ENV_OUTPUTS, None)
    env.pop(ENV_LOCAL, None)
    if outputs_file is not None:
        env[ENV_OUTPUTS] = str(Path(outputs_file).resolve())
    elif settings.local:
        env[ENV_LOCAL] = "1"  # the twins the CLI chose, even for a stack Pulumi also knows
    return env


def check_can_serve(port: int) -> None:
    if importlib.util.find_spec("streamlit") is None or importlib.util.find_spec("plotly") is None:
        raise ConfigError("the dashboard needs streamlit and plotly: run `make install-all` (the dashboard extra)")
    if not port_is_free(port, HOST):
        raise ShopstreamError(f"port {port} on {HOST} is in use: pass another one, e.g. --port {port + 1}")


def serve(settings: Settings, port: int = DEFAULT_PORT, outputs_file: Path | None = None) -> int:
    """Run the dashboard in the foreground until Ctrl+C; return Streamlit's exit code."""
    check_can_serve(port)
    try:
        return subprocess.run(
            streamlit_command(port),
            env=dashboard_env(settings, outputs_file),
            check=False,
            preexec_fn=die_with_parent(),  # SIGTERM or kill -9 of `shopstream dashboard` stops Streamlit too
        ).returncode
    except KeyboardInterrupt:
        return 0
