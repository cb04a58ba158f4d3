"""`shopstream stream`: the near-real-time road on a stack (registered in `pipeline/cli.py`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.settings import ENV_STACK

EPILOG = (
    "Examples:\n\n  shopstream stream --duration 60\n\n"
    "  shopstream stream --speed 120 --duration 300 --batch-seconds 10 --report stream.json"
)


def stream(
    stack: Annotated[str, typer.Option("--stack", envvar=ENV_STACK, help="Stack name.")] = "dev",
    outputs: Annotated[Path | None, typer.Option("--outputs", help="JSON file of the stack's Pulumi outputs.")] = None,
    speed: Annotated[float, typer.Option("--speed", help="Simulated seconds per real second (60: a minute/s).")] = 60.0,
    duration: Annotated[
        float, typer.Option("--duration", help="Real seconds to simulate before the final flush.")
    ] = 60.0,
    batch_seconds: Annotated[
        float, typer.Option("--batch-seconds", help="Real seconds between micro-batches to the lake.")
    ] = 5.0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of a first start (a restart keeps the stored one).")] = 42,
    publish_only: Annotated[
        bool, typer.Option("--publish-only", help="Only publish batches; Airflow's stream DAG (or Snowpipe) loads.")
    ] = False,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write orders, cancellations, batches and latency as JSON.")
    ] = None,
) -> None:
    """Simulate live orders (3-20 per simulated minute, stock-checked), ship micro-batches to the lake's
    raw/stream/ prefix, load them into RAW and refresh the live marts; resumes the simulated clock."""
    from pipeline.cli import err, out
    from pipeline.settings import resolve_settings
    from pipeline.stream import run_stream, validate_options

    validate_options(speed, duration, batch_seconds)
    settings = resolve_settings(stack, outputs)
    result = run_stream(
        settings,
        speed=speed,
        duration=duration,
        batch_seconds=batch_seconds,
        seed=seed,
        publish_only=publish_only,
        log=lambda message: err.print(f"[dim]{message}[/]"),
    )
    if report is not None:
        result.write(report)
    latency = result.latency_s
    shown = (
        f"p50 {latency['p50']}s, p95 {latency['p95']}s, max {latency['max']}s" if latency["p50"] is not None else "n/a"
    )
    out.print(
        f"[green]✓[/] {result.orders} orders ({result.cancelled_for_stock} cancelled for stock) in {result.minutes} "
        f"simulated minutes up to {result.sim_end}; {result.batches} batches; latency {shown}",
        soft_wrap=True,
    )
