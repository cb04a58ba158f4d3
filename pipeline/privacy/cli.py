"""Commands `shopstream forget`, `shopstream audit report` and `shopstream privacy inventory`.

Registered on the main app by `pipeline.cli`; they only call the privacy steps and render what those return.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli import Outputs, Stack, _settings, app, err, friendly_errors, out
from pipeline.errors import ShopstreamError

audit_app = typer.Typer(help="The erasure register (what `forget` did, without personal data).", no_args_is_help=True)
privacy_app = typer.Typer(help="The personal-data inventory generated from the dbt tags.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(privacy_app, name="privacy")


@app.command(
    epilog="Examples:\n\n  shopstream forget --email ana@example.com --reason 'GDPR art. 17 request 2026-118'\n\n"
    "  shopstream forget --stack alice --user-id 42"
)
@friendly_errors
def forget(
    stack: Stack = "dev",
    outputs: Outputs = None,
    email: Annotated[str | None, typer.Option("--email", help="The person's email (users and CRM).")] = None,
    user_id: Annotated[int | None, typer.Option("--user-id", help="The person's user id in the source.")] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (a ticket or legal basis; no personal data).")
    ] = None,
) -> None:
    """Erase one person from PostgreSQL, the lake, the warehouse and local caches; record it in the register."""
    from pipeline.privacy.forget import forget as forget_person

    settings = _settings(stack, outputs)
    result = forget_person(settings, email, user_id, reason, log=lambda m: err.print(f"[dim]{m}[/]"))
    if result.already_erased:
        out.print(f"[green]✓[/] already erased by request {result.request_id}; nothing left to erase")
        return
    changes = result.changes
    out.print(
        f"[green]✓[/] request {result.request_id}{' (resumed)' if result.resumed else ''}: "
        f"PostgreSQL {changes['postgres']['users_anonymised']} user(s) anonymised, "
        f"{changes['postgres']['crm_contacts_deleted']} CRM contact(s) deleted; lake "
        f"{changes['lake']['files_rewritten']} file(s) rewritten, {changes['lake']['files_deleted']} deleted; "
        f"warehouse {changes['warehouse']['raw_rows_anonymised']} RAW row(s) anonymised, "
        f"{changes['warehouse']['raw_rows_deleted'] + changes['warehouse']['history_rows_deleted']} deleted, "
        f"{changes['rebuild']['models_rebuilt']} model(s) rebuilt; 0 copies left",
        soft_wrap=True,
    )


@audit_app.command(
    "report", epilog="Examples:\n\n  shopstream audit report\n\n  shopstream audit report --since 2026-11-01"
)
@friendly_errors
def audit_report(
    stack: Stack = "dev",
    outputs: Outputs = None,
    since: Annotated[str | None, typer.Option("--since", help="Only requests from this day (YYYY-MM-DD).")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="Markdown file (default: <home>/privacy/).")] = None,
) -> None:
    """Print and write the erasure register (request, time, operator, reason, counts per layer)."""
    from pipeline.privacy import audit

    settings = _settings(stack, outputs)
    report = audit.report(settings, audit.parse_since(since))
    path = out_file or settings.home / "privacy" / "audit-report.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report.markdown)
    out.print(report.markdown, markup=False, highlight=False)
    out.print(f"[green]✓[/] {len(report.records)} request(s); written to {path}")
    if report.problems:
        raise ShopstreamError("the register's chain is broken: " + "; ".join(report.problems))


@privacy_app.command(
    "inventory", epilog="Examples:\n\n  shopstream privacy inventory\n\n  shopstream privacy inventory --check"
)
@friendly_errors
def privacy_inventory(
    check: Annotated[bool, typer.Option("--check", help="Fail if docs/privacy.md is out of date.")] = False,
) -> None:
    """Write docs/privacy.md from the dbt yml tags (personal columns, layer, sensitivity, protection)."""
    from pipeline.privacy import inventory

    problems = inventory.problems()
    if problems:
        raise ShopstreamError(f"the personal-data tags are incomplete: {problems[0]}")
    if check:
        if inventory.PRIVACY_DOC.read_text() != inventory.render():
            raise ShopstreamError("docs/privacy.md is out of date: run `shopstream privacy inventory`")
        out.print("[green]✓[/] docs/privacy.md is up to date")
        return
    out.print(f"[green]✓[/] wrote {inventory.write()}")
