"""The policy pack as the engine starts it: `infra/policies/__main__.py` runs on its own in the venv's Python,
serves pulumi_policy's analyzer over gRPC on 127.0.0.1 and prints its port; the engine then calls it.

Here the test plays the engine's part (it cannot be installed): it starts the pack, asks for its policies and
sends one `Analyze` request, then stops the process it started.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime import proto
from pulumi.runtime.proto import analyzer_pb2_grpc

from infra.policies.guardrails import RESOURCE_RULES, STACK_RULES
from tests.infra.policy_engine import struct

PACK_DIR = Path(__file__).resolve().parents[2] / "infra" / "policies"
WAREHOUSE = "snowflake:index/warehouse:Warehouse"


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    # Started from the pack's own folder with no PYTHONPATH: the pack must import on its own. Unbuffered: pulumi_policy
    # writes the port line without flushing it.
    process = subprocess.Popen(
        [sys.executable, "__main__.py"],
        cwd=PACK_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={"PYTHONUNBUFFERED": "1"},
    )
    try:
        port = int(process.stdout.readline().decode().strip() or 0)
        assert port, process.stderr.read().decode()[-2000:]
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=30)
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_pack_serves_every_policy_as_mandatory(analyzer):
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "shopstream-guardrails"
    assert {p.name for p in info.policies} == set(RESOURCE_RULES) | set(STACK_RULES)
    assert {p.enforcementLevel for p in info.policies} == {proto.MANDATORY}


def test_the_pack_blocks_a_large_warehouse_over_grpc(analyzer):
    warehouse = {"name": "BIG", "warehouseSize": "LARGE", "autoSuspend": 60, "statementTimeoutInSeconds": 600}
    request = proto.AnalyzeRequest(
        type=WAREHOUSE, properties=struct(warehouse), urn=f"urn:pulumi:s::shopstream::{WAREHOUSE}::w", name="w"
    )
    request.provider.CopyFrom(
        proto.AnalyzerProviderResource(
            type="pulumi:providers:snowflake", properties=struct({"role": "SYSADMIN"}), urn="urn:p", name="p"
        )
    )
    diagnostics = analyzer.Analyze(request).diagnostics
    assert [(d.policyName, d.enforcementLevel) for d in diagnostics] == [
        ("warehouse-small-and-suspending", proto.MANDATORY)
    ]
    assert "warehouse BIG is LARGE; use XSMALL or SMALL" in diagnostics[0].message
