"""A Power BI data-source file (`.pbids`) for the stack's Snowflake marts.

Opening the file in Power BI Desktop starts "Get data" on the stack's Snowflake account and BI warehouse; the
user signs in with their own Snowflake credentials (a .pbids file never holds credentials). The documented
Snowflake address has only `server` and `warehouse`, so the database and MARTS schema are not in the file:
Power BI's navigator lists them, and the file's name says which to pick (e.g. shopstream_alice_marts.pbids).
"""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.errors import ConfigError, ShopstreamError
from pipeline.settings import Settings, SnowflakeWarehouse

PBIDS_VERSION = "0.1"
SNOWFLAKE_DOMAIN = "snowflakecomputing.com"


def pbids_document(warehouse: SnowflakeWarehouse, mode: str = "DirectQuery") -> dict:
    """The .pbids JSON for a Snowflake warehouse: one connection to the account through its BI warehouse."""
    if mode not in ("DirectQuery", "Import"):
        raise ValueError(f"mode must be DirectQuery or Import, not {mode!r}")
    return {
        "version": PBIDS_VERSION,
        "connections": [
            {
                "details": {
                    "protocol": "snowflake",
                    "address": {"server": snowflake_server(warehouse.account), "warehouse": warehouse.warehouses["bi"]},
                },
                "options": {},
                "mode": mode,
            }
        ],
    }


def snowflake_server(account: str) -> str:
    """Host name of an account identifier (`org-account` or a locator such as `xy12345.eu-west-1`)."""
    account = account.strip().lower()
    return account if account.endswith(SNOWFLAKE_DOMAIN) else f"{account}.{SNOWFLAKE_DOMAIN}"


def default_path(settings: Settings, warehouse: SnowflakeWarehouse) -> Path:
    marts = warehouse.schemas.get("marts", "MARTS")
    return settings.home / f"{warehouse.database}_{marts}.pbids".lower()


def write_pbids(settings: Settings, path: Path | None = None, mode: str = "DirectQuery") -> Path:
    """Write the stack's .pbids file (default: `<home>/<database>_marts.pbids`) and return its path."""
    warehouse = settings.warehouse
    if not isinstance(warehouse, SnowflakeWarehouse):
        raise ConfigError(
            f"stack {settings.stack!r} keeps its marts in a local DuckDB file, which Power BI cannot reach: "
            f"open the dashboard instead (`shopstream dashboard --stack {settings.stack}`), "
            "or pass --outputs FILE of a cloud stack"
        )
    target = Path(path) if path is not None else default_path(settings, warehouse)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(pbids_document(warehouse, mode), indent=2) + "\n")
    except OSError as exc:
        raise ShopstreamError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target
