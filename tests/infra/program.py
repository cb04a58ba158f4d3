"""Run the Pulumi program under Pulumi's mock runtime and return what it declared, as plain data.

Mocks stand in only for the Pulumi engine and the cloud providers, which cannot run here. They compute what the
real providers would (ARNs, ids, the storage integration's IAM user and external id, the access key secret,
random passwords), so the program's wiring between resources is exercised for real.

The monitor also keeps each registration as the engine receives it: the resource options (provider,
delete-before-replace, replace-with) and the inputs as a protobuf Struct. With `preview=True` the providers return
nothing they compute, as on a first `pulumi preview`, so inputs built from ARNs or ids arrive as the engine's
unknown sentinels, exactly what the policy pack is handed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import pulumi
import pulumi.runtime.resource
from google.protobuf import struct_pb2
from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks
from pulumi.runtime.proto import source_pb2
from pulumi.runtime.rpc import _special_secret_sig as _SECRET_SIG
from pulumi.runtime.rpc import _special_sig_key as _SIG_KEY

from pipeline.transform.runner import collector_paused

AWS_ACCOUNT_ID = "123456789012"
AWS_REGION = "eu-west-1"
SNOWFLAKE_AWS_ACCOUNT_ID = "987654321098"  # the AWS account Snowflake's own IAM users live in


def _digest(*parts: str, length: int = 16) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def _quoted(*identifiers: str) -> str:
    return ".".join(f'"{identifier}"' for identifier in identifiers)


@dataclass(frozen=True)
class Registration:
    """What the engine learns about a resource beyond its inputs."""

    provider_urn: str  # "" for a default provider
    delete_before_replace: bool
    replace_with: tuple[str, ...]
    parent: str
    raw_inputs: struct_pb2.Struct
    dependencies: tuple[str, ...] = ()  # URNs it depends on: `depends_on` and the resources its inputs came from


@dataclass(frozen=True)
class Declared:
    """One resource the program declared: its type, logical name, URN, the inputs it sent and the state it got."""

    type: str
    name: str
    urn: str
    inputs: dict[str, Any]
    state: dict[str, Any]
    secret_inputs: frozenset[str] = frozenset()
    registration: Registration | None = None


class RecordingMonitor(pulumi.runtime.mocks.MockMonitor):
    """Pulumi's mock monitor, keeping each RegisterResource request's options and raw inputs by URN."""

    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.registrations: dict[str, Registration] = {}

    def RegisterResource(self, request):
        urn = self.make_urn(request.parent, request.type, request.name)
        raw = struct_pb2.Struct()
        raw.CopyFrom(request.object)
        self.registrations[urn] = Registration(
            provider_urn=request.provider.rsplit("::", 1)[0] if request.provider else "",
            delete_before_replace=request.deleteBeforeReplace,
            replace_with=tuple(request.replace_with),
            parent=request.parent,
            raw_inputs=raw,
            dependencies=tuple(request.dependencies),
        )
        return super().RegisterResource(request)


class ProviderMocks(Mocks):
    def __init__(self, preview: bool = False) -> None:
        self.declared: list[Declared] = []
        self.calls: list[str] = []
        self.preview = preview

    def call(self, args: MockCallArgs):
        self.calls.append(args.token)
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": AWS_ACCOUNT_ID,
                "arn": f"arn:aws:iam::{AWS_ACCOUNT_ID}:user/instructor",
                "userId": "AIDAEXAMPLEINSTRUCTOR",
                "id": AWS_ACCOUNT_ID,
            }
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws", "reverseDnsPrefix": "com.amazonaws"}
        if args.token == "aws:index/getRegion:getRegion":
            return {
                "region": AWS_REGION,
                "name": AWS_REGION,
                "id": AWS_REGION,
                "endpoint": "ec2.eu-west-1.amazonaws.com",
            }
        raise NotImplementedError(f"no mock for invoke {args.token}")

    def new_resource(self, args: MockResourceArgs):
        inputs = {key: _reveal(value) for key, value in args.inputs.items()}
        secret_inputs = frozenset(key for key, value in args.inputs.items() if _is_secret(value))
        if self.preview:  # a first preview: nothing exists yet, ids and computed properties are unknown
            self.declared.append(Declared(args.typ, args.name, "", inputs, inputs, secret_inputs))
            return "", inputs
        computed = self._computed(args.typ, args.name, inputs)
        state = {**inputs, **computed}
        resource_id = state.pop("__id", None) or f"{args.name}-id"
        self.declared.append(Declared(args.typ, args.name, "", inputs, state, secret_inputs))
        return resource_id, state

    @staticmethod
    def _computed(typ: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """What the real provider adds to a resource's inputs once it exists."""
        if typ == "aws:s3/bucket:Bucket":
            bucket = inputs["bucket"]
            return {"__id": bucket, "arn": f"arn:aws:s3:::{bucket}", "region": AWS_REGION}
        if typ.startswith("pulumi:providers:"):
            return {"__id": f"{name}-provider-id"}
        if typ == "aws:iam/user:User":
            return {"__id": inputs["name"], "arn": f"arn:aws:iam::{AWS_ACCOUNT_ID}:user/{inputs['name']}"}
        if typ == "aws:iam/role:Role":
            return {"__id": inputs["name"], "arn": f"arn:aws:iam::{AWS_ACCOUNT_ID}:role/{inputs['name']}"}
        if typ == "aws:iam/accessKey:AccessKey":
            return {
                "__id": "AKIA" + _digest(inputs["user"]).upper(),
                "secret": "secret-" + _digest("access-key", inputs["user"], length=32),
                "status": "Active",
            }
        if typ == "random:index/randomPassword:RandomPassword":
            return {"result": _digest("password", name, length=int(inputs["length"]))}
        if typ == "snowflake:index/storageIntegrationAws:StorageIntegrationAws":
            integration = inputs["name"]
            snowflake_user = f"arn:aws:iam::{SNOWFLAKE_AWS_ACCOUNT_ID}:user/sf-{_digest(integration, length=8)}"
            return {
                "__id": integration,
                "fullyQualifiedName": _quoted(integration),
                "describeOutputs": [
                    {
                        "iamUserArn": snowflake_user,
                        "externalId": f"SF_{_digest('external-id', integration, length=12)}=",
                        "roleArn": inputs["storageAwsRoleArn"],
                        "allowedLocations": inputs["storageAllowedLocations"],
                        "provider": inputs["storageProvider"],
                        "enabled": inputs["enabled"],
                    }
                ],
            }
        if typ.startswith("snowflake:index/"):
            return {"fullyQualifiedName": _snowflake_identifier(inputs)} if "name" in inputs else {}
        return {}


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(_SIG_KEY) == _SECRET_SIG


def _reveal(value: Any) -> Any:
    """Inputs the engine marked secret arrive wrapped; unwrap them (the mark is kept in `secret_inputs`)."""
    if _is_secret(value):
        return _reveal(value["value"])
    if isinstance(value, dict):
        return {key: _reveal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_reveal(item) for item in value]
    return value


def _snowflake_identifier(inputs: dict[str, Any]) -> str:
    parts = [inputs[key] for key in ("database", "schema") if key in inputs]
    return _quoted(*parts, inputs["name"])


@dataclass
class ProgramRun:
    """The resolved result of one mocked `pulumi up`."""

    stack: str
    declared: list[Declared]
    outputs: dict[str, Any]
    secret_outputs: set[str]
    calls: list[str] = field(default_factory=list)

    def of_type(self, typ: str) -> list[Declared]:
        return [resource for resource in self.declared if resource.type == typ]

    def one(self, typ: str) -> Declared:
        found = self.of_type(typ)
        assert len(found) == 1, f"expected one {typ}, found {len(found)}"
        return found[0]

    def named(self, name: str) -> Declared:
        return next(resource for resource in self.declared if resource.name == name)

    def by_urn(self, urn: str) -> Declared:
        return next(resource for resource in self.declared if resource.urn == urn)

    def provider_of(self, resource: Declared) -> Declared | None:
        """The explicit provider a resource was registered with (None: the default provider)."""
        assert resource.registration is not None
        urn = resource.registration.provider_urn
        return self.by_urn(urn) if urn else None


def run_program(
    stack: str, config: dict[str, str], preview: bool = False, program: Callable[[], dict] | None = None
) -> ProgramRun:
    """Declare `stack` with `config` (full keys, e.g. `shopstream:cohort`) and wait until every resource is
    registered; `preview=True` declares it as a first `pulumi preview` sees it.

    `program` declares the resources and returns the outputs (default: a student stack, `infra.stack.build`).
    """
    from infra.stack import build  # imported late: the program reads config and mocks when it runs

    program = program or build
    mocks = ProviderMocks(preview)
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project="shopstream", stack=stack, preview=preview, monitor=monitor)
    pulumi.runtime.set_all_config(config)
    resolved: dict[str, Any] = {}
    secret: set[str] = set()

    async def resolve(outputs: dict[str, Any]) -> None:
        for key, value in outputs.items():
            output = pulumi.Output.from_input(value)
            resolved[key] = await output.future()
            if await output.is_secret():
                secret.add(key)

    @pulumi.runtime.test
    def declare():
        return pulumi.Output.from_input(resolve(program()))

    # The SDK walks the Python stack (with source lines, twice per resource) to tell the engine where each resource
    # was declared, for its diagnostics; the mock monitor never reads it, and the walk is a third of a mocked run.
    # The collector is paused as around dbt: a run's tens of thousands of futures and outputs would otherwise make
    # it walk the whole heap of a worker that already holds dbt, Airflow and DuckDB, again and again.
    with mock.patch.object(pulumi.runtime.resource, "_get_stack_trace", source_pb2.StackTrace), collector_paused():
        declare()
    declared = []
    for d in mocks.declared:
        urn = _urn_of(monitor, d)
        declared.append(
            Declared(d.type, d.name, urn, d.inputs, d.state, d.secret_inputs, monitor.registrations.get(urn))
        )
    return ProgramRun(stack, declared, resolved, secret, mocks.calls)


def _urn_of(monitor: RecordingMonitor, declared: Declared) -> str:
    suffix = f"{declared.type}::{declared.name}"
    return next(urn for urn in monitor.registrations if urn.endswith(suffix))
