"""What each student receives: `classroom/<cohort>/handout/<student>/`, private files only.

    outputs.json        the stack's outputs, secrets included (the pipeline's `--outputs FILE`)
    snowflake_key.p8    the private key of the student's Snowflake user (written by keys.py)
    shopstream.pbids    Power BI connection file for the stack's BI warehouse
    README.md           the exact commands to run the pipeline against the stack

The cohort's salt, other students' data and the instructor's files are never in it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipeline.classroom.state import write_private
from pipeline.errors import ShopstreamError
from pipeline.serve.pbids import pbids_document
from pipeline.settings import settings_from_outputs

OUTPUTS_FILE = "outputs.json"
KEY_FILE = "snowflake_key.p8"
PBIDS_FILE = "shopstream.pbids"
README_FILE = "README.md"
HANDOUT_FILES = (OUTPUTS_FILE, KEY_FILE, PBIDS_FILE, README_FILE)


def key_path(folder: Path) -> Path:
    return folder / KEY_FILE


def write_handout(folder: Path, stack: str, outputs: dict[str, Any]) -> list[Path]:
    """Write the hand-out of `stack` from its outputs; the key must already be there (keys.py puts it first)."""
    if not key_path(folder).exists():
        raise ShopstreamError(f"{key_path(folder)} is missing: run `classroom up` for this student first")
    settings = settings_from_outputs(stack, outputs, origin=f"the outputs of stack {stack}")
    warehouse = settings.warehouse
    written = [
        write_private(folder / OUTPUTS_FILE, json.dumps(outputs, indent=2, sort_keys=True) + "\n"),
        write_private(folder / PBIDS_FILE, json.dumps(pbids_document(warehouse), indent=2) + "\n"),  # type: ignore[arg-type]
        write_private(folder / README_FILE, readme(stack, outputs)),
    ]
    return [*written, key_path(folder)]


def readme(stack: str, outputs: dict[str, Any]) -> str:
    user = outputs.get("snowflake_user") or "<your Snowflake user name, from your instructor>"
    database = outputs.get("snowflake_database", "")
    return f"""# Your ShopStream stack `{stack}`

This folder is yours alone: it holds your Snowflake private key (`{KEY_FILE}`) and your stack's secrets
(`{OUTPUTS_FILE}`). Never commit, e-mail or share it; keep it readable by you only (`chmod -R go-rwx .`).

## Run the pipeline on your stack

From a checkout of the ShopStream Stack repository, after `make install-all`:

```bash
export HANDOUT=/path/to/this/folder
export SNOWFLAKE_USER={user}
export SNOWFLAKE_PRIVATE_KEY_PATH="$HANDOUT/{KEY_FILE}"

.venv/bin/shopstream run --stack {stack} --outputs "$HANDOUT/{OUTPUTS_FILE}"        # generate, extract, load, dbt
.venv/bin/shopstream status --stack {stack} --outputs "$HANDOUT/{OUTPUTS_FILE}"     # rows per layer
.venv/bin/shopstream dashboard --stack {stack} --outputs "$HANDOUT/{OUTPUTS_FILE}"  # http://127.0.0.1:8501
```

Your data is your own variant: it differs from your classmates' data and is the same on every run.

## Power BI

Open `{PBIDS_FILE}`, sign in to Snowflake as `{user}`, then pick database `{database}`, schema `MARTS`.
"""
