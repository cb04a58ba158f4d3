"""Run the guardrails the way the Pulumi engine does, without the engine (it cannot be installed here).

The policy pack's gRPC servicer from pulumi_policy receives `AnalyzeRequest`/`AnalyzeStackRequest` messages built
from what the program registered under the mock runtime: protobuf Structs of properties (with the engine's
unknown sentinels on a preview), the resource options, and the provider's own properties. pulumi_policy then
deserialises them and wraps them with `unknown_checking_proxy` itself, exactly as under `pulumi up`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel
from pulumi_policy.policy import _PolicyAnalyzerServicer

from infra.policies.guardrails import policies
from tests.infra.program import Declared, ProgramRun

PACK = "shopstream-guardrails"


@dataclass(frozen=True)
class Diagnostic:
    policy: str
    message: str
    mandatory: bool


class _Context:
    """The gRPC context: a policy that crashes aborts through it."""

    def abort(self, code: Any, details: str) -> None:
        raise AssertionError(f"policy pack aborted ({code}): {details}")


def servicer(policy_list: list | None = None) -> _PolicyAnalyzerServicer:
    return _PolicyAnalyzerServicer(PACK, "0.0.1", policy_list or policies(), EnforcementLevel.MANDATORY)


def struct(properties: dict[str, Any]) -> struct_pb2.Struct:
    return json_format.ParseDict(properties, struct_pb2.Struct())


def _properties(run: ProgramRun, resource: Declared, after_up: bool) -> struct_pb2.Struct:
    """After `up` the engine analyses outputs (the state); before a step, the inputs as registered."""
    if after_up:
        return struct(resource.state)
    assert resource.registration is not None
    return resource.registration.raw_inputs


def _provider(run: ProgramRun, resource: Declared, after_up: bool) -> proto.AnalyzerProviderResource | None:
    provider = run.provider_of(resource)
    if provider is None:
        return None
    return proto.AnalyzerProviderResource(
        type=provider.type, properties=_properties(run, provider, after_up), urn=provider.urn, name=provider.name
    )


def _options(resource: Declared) -> proto.AnalyzerResourceOptions:
    registration = resource.registration
    assert registration is not None
    return proto.AnalyzerResourceOptions(
        deleteBeforeReplace=registration.delete_before_replace,
        deleteBeforeReplaceDefined=True,
        parent=registration.parent,
    )


def _diagnostics(response: proto.AnalyzeResponse) -> list[Diagnostic]:
    return [Diagnostic(d.policyName, d.message, d.enforcementLevel == proto.MANDATORY) for d in response.diagnostics]


def analyze_each(run: ProgramRun, after_up: bool = False, policy_list: list | None = None) -> list[Diagnostic]:
    """`Analyze` for every custom resource, as the engine calls it before each step."""
    pack = servicer(policy_list)
    found: list[Diagnostic] = []
    for resource in run.declared:
        if resource.type.startswith("pulumi:providers:"):
            continue
        request = proto.AnalyzeRequest(
            type=resource.type,
            properties=_properties(run, resource, after_up),
            urn=resource.urn,
            name=resource.name,
            options=_options(resource),
        )
        provider = _provider(run, resource, after_up)
        if provider is not None:
            request.provider.CopyFrom(provider)
        found += _diagnostics(pack.Analyze(request, _Context()))
    return found


def analyze_stack(run: ProgramRun, after_up: bool = True, policy_list: list | None = None) -> list[Diagnostic]:
    """`AnalyzeStack` over every resource of the stack, as the engine calls it at the end of an update."""
    resources = []
    for resource in run.declared:
        message = proto.AnalyzerResource(
            type=resource.type,
            properties=_properties(run, resource, after_up),
            urn=resource.urn,
            name=resource.name,
            options=_options(resource),
            parent=resource.registration.parent if resource.registration else "",
        )
        provider = _provider(run, resource, after_up)
        if provider is not None:
            message.provider.CopyFrom(provider)
        resources.append(message)
    return _diagnostics(servicer(policy_list).AnalyzeStack(proto.AnalyzeStackRequest(resources=resources), _Context()))
