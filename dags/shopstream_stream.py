"""ShopStream stream: load each new micro-batch of the lake's stream prefix and refresh the live marts.

Two DAGs, one asset. `shopstream_stream_watch` looks every minute for batches the stream (`shopstream stream
--publish-only`) journaled but nobody loaded; when there are some it updates the asset `shopstream_stream_batches`
(the lake's `raw/stream/` prefix). `shopstream_stream_load` is scheduled on that asset: it loads the pending batches
into RAW through the load history (a file loads once) and runs the incremental live dbt models. The daily DAG keeps
running beside them; both write the warehouse through the `shopstream_warehouse` pool, one at a time.

The stack is the Airflow Variable `shopstream_stack`, else $SHOPSTREAM_STACK, else `dev`. Importing this file needs
no database, manifest or stack.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, Asset, Variable, task
from airflow.sdk.exceptions import AirflowSkipException

from pipeline import orchestrate

STREAM_ASSET = Asset(name="shopstream_stream_batches", uri="shopstream://lake/raw/stream/")
DEFAULT_ARGS = {
    "owner": "shopstream",
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "execution_timeout": timedelta(minutes=10),
}


def current_stack() -> str:
    return Variable.get(orchestrate.STACK_VARIABLE, default=orchestrate.default_stack())


with DAG(
    dag_id="shopstream_stream_watch",
    description="Announces new stream batches in the lake (updates the stream asset).",
    schedule=timedelta(minutes=1),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["shopstream", "stream"],
):

    @task(outlets=[STREAM_ASSET])
    def announce_new_batches() -> int:
        """Skipped (no asset event) when every journaled batch is loaded already."""
        from pipeline.stream.tasks import pending_batch_count

        pending = pending_batch_count(current_stack())
        if not pending:
            raise AirflowSkipException("no new stream batch")
        return pending

    announce_new_batches()


with DAG(
    dag_id="shopstream_stream_load",
    description="Loads new stream batches into RAW and refreshes the incremental live marts.",
    schedule=[STREAM_ASSET],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["shopstream", "stream"],
):

    @task(pool=orchestrate.WAREHOUSE_POOL)
    def load_and_refresh() -> dict:
        from pipeline.stream.tasks import load_stream_batches

        return load_stream_batches(current_stack())

    load_and_refresh()
