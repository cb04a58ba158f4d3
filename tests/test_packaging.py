"""`pipeline`, `infra` and `dashboard` are installed packages of the project: no module reaches them by editing
sys.path, and a process started anywhere with the project's Python imports them by name (as Pulumi's engine and
`streamlit run` start the entry points from their own folders)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE_FOLDERS = ["pipeline", "infra", "dashboard", "dags", "bench"]
MUTATORS = {"insert", "append", "extend", "remove", "pop", "clear"}


def sys_path_edits(source: str) -> list[int]:
    """Lines that change sys.path: a call of one of its mutating methods, or an assignment to it or to its items."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS:
            targets = [node.func.value]
        elif isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign):
            targets = [node.target]
        else:
            continue
        if any(ast.unparse(t.value if isinstance(t, ast.Subscript) else t) == "sys.path" for t in targets):
            lines.append(node.lineno)
    return sorted(lines)


def test_the_check_finds_every_way_of_editing_sys_path():
    source = "import sys\nsys.path.insert(0, 'x')\nsys.path[:0] = ['y']\nsys.path += ['z']\nprint(sys.path[0])\n"
    assert sys_path_edits(source) == [2, 3, 4]
    assert sys_path_edits("import os, sys\nfirst = sys.path.copy()\nos.path.join('a', 'b')\n") == []


def test_no_module_edits_sys_path():
    edits = {
        f"{path.relative_to(ROOT)}:{line}"
        for folder in SOURCE_FOLDERS
        for path in sorted((ROOT / folder).rglob("*.py"))
        for line in sys_path_edits(path.read_text())
    }
    assert not edits, f"modules edit sys.path instead of importing installed packages: {sorted(edits)}"


def test_the_packages_import_from_anywhere_with_the_projects_python(tmp_path):
    modules = ["pipeline.naming", "infra.stack", "infra.policies.guardrails", "dashboard.data"]
    script = (
        "import importlib.util, json, sys; "
        f"print(json.dumps({{m: importlib.util.find_spec(m).origin for m in {modules!r}}}))"
    )
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    found = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert found.returncode == 0, found.stderr[-2000:]
    origins = json.loads(found.stdout)
    assert {module: Path(origin).relative_to(ROOT).as_posix() for module, origin in origins.items()} == {
        "pipeline.naming": "pipeline/naming.py",
        "infra.stack": "infra/stack.py",
        "infra.policies.guardrails": "infra/policies/guardrails.py",
        "dashboard.data": "dashboard/data.py",
    }
