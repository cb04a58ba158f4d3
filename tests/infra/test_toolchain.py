"""The Python toolchain named in Pulumi.yaml and PulumiPolicy.yaml works with the virtualenv `make install-all` builds.

What the engine's Python language host does with each toolchain (pulumi/pulumi sdk/python/toolchain):
- `pip`: lists packages with `<venv>/bin/python -m pip list --format json` (to find provider plugins) and stops
  with "failed to discover package requirements" when that fails;
- `uv`: needs `uv` (>= 0.4.26) on PATH, lists packages with `uv pip list --format json` inside the virtualenv,
  and runs the program with `uv run python` with UV_PROJECT_ENVIRONMENT set to the virtualenv.
The engine itself cannot be installed here, so this test runs those same commands against the real `.venv`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv"
MIN_UV = (0, 4, 26)
# Resolves (without importing: pulumi_aws alone takes many seconds) what the program and the pack import.
FIND_PROGRAM_PACKAGES = (
    "import importlib.util as u, sys; "
    "assert all(u.find_spec(m) for m in ('pulumi', 'pulumi_aws', 'pulumi_snowflake', 'pulumi_policy', 'pipeline')); "
    "print(sys.prefix)"
)
PLUGIN_PACKAGES = {"pulumi-aws", "pulumi-snowflake", "pulumi-postgresql", "pulumi-random"}


def uv_executable() -> str:
    """uv as the engine finds it: on PATH (the docs put the Makefile's .tools/bin there)."""
    path = os.pathsep.join([str(ROOT / ".tools" / "bin"), os.environ.get("PATH", "")])
    found = shutil.which("uv", path=path)
    assert found, "uv is not on PATH nor in .tools/bin: run `make install-all`"
    return found


def run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env={**os.environ, **env}, check=False)


def toolchain_problems(settings_file: Path) -> list[str]:
    """Why the engine could not list packages or run Python with this file's runtime options ([] when it can)."""
    runtime = yaml.safe_load(settings_file.read_text())["runtime"]
    options = runtime.get("options", {})
    venv = (settings_file.parent / options.get("virtualenv", "")).resolve()
    problems = []
    if runtime.get("name") != "python":
        problems.append(f"runtime is {runtime.get('name')}, not python")
    if venv != VENV:
        problems.append(f"virtualenv {venv} is not the one `make install-all` builds ({VENV})")
    toolchain = options.get("toolchain", "pip")
    if toolchain == "pip":
        listing = run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format", "json"], {})
        if listing.returncode != 0:
            problems.append(f"pip toolchain: `python -m pip list` fails in {venv} ({listing.stderr.strip()[-80:]})")
        return problems
    if toolchain != "uv":
        return [*problems, f"toolchain {toolchain} is not the one the Makefile uses (uv)"]
    uv = uv_executable()
    version = tuple(int(part) for part in run([uv, "--version"], {}).stdout.split()[1].split(".")[:3])
    if version < MIN_UV:
        problems.append(f"uv {version} is older than the language host's minimum {MIN_UV}")
    listing = run([uv, "pip", "list", "--format", "json"], {"VIRTUAL_ENV": str(venv)})
    listed = {package["name"] for package in json.loads(listing.stdout or "[]")}
    if missing := (PLUGIN_PACKAGES | {"pulumi", "pulumi-policy"}) - listed:
        problems.append(f"`uv pip list` does not show {sorted(missing)}")
    # The program runs with `uv run python`: offline here, so nothing it needs may be missing from the venv.
    program = run(
        [uv, "run", "python", "-c", FIND_PROGRAM_PACKAGES],
        {"UV_PROJECT_ENVIRONMENT": str(venv), "UV_OFFLINE": "1", "UV_PYTHON_DOWNLOADS": "never"},
    )
    if program.returncode != 0 or Path(program.stdout.strip()).resolve() != venv:
        problems.append(f"`uv run python` does not run in {venv}: {program.stderr.strip()[-200:]}")
    return problems


@pytest.mark.parametrize("settings_file", ["Pulumi.yaml", "infra/policies/PulumiPolicy.yaml"])
def test_the_configured_toolchain_works_with_the_make_built_venv(settings_file: str):
    path = ROOT / settings_file
    assert yaml.safe_load(path.read_text())["runtime"]["options"]["toolchain"] == "uv"
    assert toolchain_problems(path) == []


def test_the_check_fails_for_the_pip_toolchain_the_venv_cannot_serve(tmp_path: Path):
    """`make` builds the venv with uv, which installs no pip: the pip toolchain would stop the engine."""
    pip_config = tmp_path / "Pulumi.yaml"
    pip_config.write_text(
        yaml.safe_dump(
            {"name": "x", "runtime": {"name": "python", "options": {"toolchain": "pip", "virtualenv": str(VENV)}}}
        )
    )
    (problem,) = toolchain_problems(pip_config)
    assert "python -m pip list` fails" in problem


def test_every_provider_package_ships_its_plugin_metadata():
    """The engine installs provider plugins named by each package's pulumi-plugin.json (found via the listing)."""
    site = next((VENV / "lib").glob("python3*/site-packages"))
    for package in PLUGIN_PACKAGES:
        metadata = json.loads((site / package.replace("-", "_") / "pulumi-plugin.json").read_text())
        assert metadata["resource"] is True and metadata["name"] == package.removeprefix("pulumi-")
