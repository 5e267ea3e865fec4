"""Run the IDF Pulumi program for one stack under Pulumi's mock engine: no CLI, no credentials.

The stack file is fed to the program exactly as the Pulumi CLI would (flat `pulumi.Config`
keys, structured values as JSON), the program reads it through `load_from_pulumi_config()`, and a
recording monitor keeps, for every resource, its type, name, URN, parent, inputs (camelCase, as
the engine records them; secrets redacted) and the options a review needs (protect,
ignore_changes, dependencies, provider). Mock values (IDs, IPs, endpoints) are placeholders.

`set_mocks` is process-global: stacks run one after the other, each in its own program run.
"""

# Pulumi and the program are imported inside functions: `idf --help` must stay instant.
# ruff: noqa: PLC0415

from __future__ import annotations

import gc
import hashlib
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from idf_core.errors import BadInput

__all__ = [
    "SECRET_PLACEHOLDER",
    "OfflinePlan",
    "PlannedResource",
    "collector_paused",
    "run_offline",
]

SECRET_PLACEHOLDER = "[secret]"  # noqa: S105 -- the redaction marker, not a secret
# Pulumi's wire signature of a secret value (pulumi.runtime.rpc), not a credential.
_SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"  # noqa: S105
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105
PROJECT = "idf"


@dataclass
class PlannedResource:
    """One resource the program declared."""

    type: str
    name: str
    urn: str
    inputs: dict[str, Any]
    custom: bool
    parent: str | None = None
    provider: str | None = None
    protect: bool = False
    retain_on_delete: bool = False
    ignore_changes: list[str] = field(default_factory=list)
    dependencies: list[str] = field(default_factory=list)
    secret_inputs: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The plan-JSON form."""
        return {
            "type": self.type,
            "name": self.name,
            "urn": self.urn,
            "parent": self.parent,
            "custom": self.custom,
            "protect": self.protect,
            "ignore_changes": self.ignore_changes,
            "secret_inputs": self.secret_inputs,
            "inputs": self.inputs,
        }


@dataclass
class OfflinePlan:
    """What one stack would declare."""

    stack: str
    source: str
    resources: list[PlannedResource]
    outputs: dict[str, Any]
    seconds: float
    warnings: list[str] = field(default_factory=list)
    """What the program warned about (``pulumi.log.warn``): e.g. a workload left out of the plan."""

    def of_type(self, type_token: str) -> list[PlannedResource]:
        """Resources of one type token (e.g. `gcp:container/nodePool:NodePool`)."""
        return [r for r in self.resources if r.type == type_token]

    def by_name(self, name: str) -> PlannedResource:
        """The resource with this logical name (KeyError if absent)."""
        for resource in self.resources:
            if resource.name == name:
                return resource
        raise KeyError(name)

    def counts(self) -> dict[str, int]:
        """Resources per type (custom resources only), sorted by type."""
        out: dict[str, int] = {}
        for r in self.resources:
            if r.custom:
                out[r.type] = out.get(r.type, 0) + 1
        return dict(sorted(out.items()))

    def to_json(self) -> dict[str, Any]:
        """The plan document `idf plan --json` writes."""
        return {
            "stack": self.stack,
            "source": self.source,
            "offline_plan": True,
            "resources": [r.to_json() for r in self.resources if r.custom],
            "components": [r.to_json() for r in self.resources if not r.custom],
            "outputs": self.outputs,
        }


def _redact(value: Any, path: str, secrets: list[str]) -> Any:
    if isinstance(value, dict):
        if value.get(_SECRET_SIG_KEY) == _SECRET_SIG:
            secrets.append(path)
            inner = value.get("value")
            # A secret map (a Kubernetes Secret's stringData) keeps its keys, so that the manifest
            # still validates; every value is redacted.
            if isinstance(inner, dict):
                return dict.fromkeys(inner, SECRET_PLACEHOLDER)
            return SECRET_PLACEHOLDER
        return {k: _redact(v, f"{path}.{k}" if path else k, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, f"{path}[{i}]", secrets) for i, v in enumerate(value)]
    return value


def _ints(value: Any) -> Any:
    """The engine hands numbers back as floats (2 -> 2.0): restore integral ones."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    return value


def _fake_ip(seed: str, prefix: str) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return f"{prefix}.{digest[0] % 250 + 2}"


def _mock_classes() -> tuple[type, type]:
    import pulumi
    from pulumi.runtime import mocks as pulumi_mocks
    from pulumi.runtime import rpc

    class IdfMocks(pulumi.runtime.Mocks):
        """Placeholder values for what GCP computes (IDs, IPs, endpoints, emails)."""

        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
            inputs = dict(args.inputs)
            state: dict[str, Any] = dict(inputs)
            project = str(inputs.get("project", "mock-project"))
            name = str(inputs.get("name", args.name))
            t = args.typ
            if t == "gcp:container/cluster:Cluster":
                state["endpoint"] = _fake_ip(args.name, "203.0.113")
                state["masterAuth"] = {
                    **(inputs.get("masterAuth") or {}),
                    "clusterCaCertificate": "bW9jay1jbHVzdGVyLWNh",  # base64("mock-cluster-ca")
                }
                state["id"] = f"projects/{project}/locations/{inputs.get('location')}/clusters/{name}"
            elif t == "gcp:sql/databaseInstance:DatabaseInstance":
                state["privateIpAddress"] = _fake_ip(args.name, "10.200.0")
                state["connectionName"] = f"{project}:{inputs.get('region')}:{name}"
            elif t == "gcp:compute/globalAddress:GlobalAddress":
                state["address"] = _fake_ip(args.name, "198.51.100")
            elif t == "gcp:compute/address:Address":
                state["address"] = _fake_ip(args.name, "10.250.0")
            elif t == "gcp:serviceaccount/account:Account":
                email = f"{inputs.get('accountId')}@{project}.iam.gserviceaccount.com"
                state["email"] = email
                state["name"] = f"projects/{project}/serviceAccounts/{email}"
            elif t == "docker-build:index:Image":
                # What a push reports: a digest (here of the build's inputs) and the tag@digest ref.
                digest = "sha256:" + hashlib.sha256(repr(sorted(inputs.items())).encode()).hexdigest()
                state["digest"] = digest
                state["ref"] = f"{(inputs.get('tags') or [args.name])[0]}@{digest}"
            elif t == "gcp:artifactregistry/repository:Repository":
                state["name"] = inputs.get("repositoryId", args.name)
            elif t == "random:index/randomPassword:RandomPassword":
                # A placeholder, returned as a secret so secrecy propagates as with the provider.
                state["result"] = pulumi.Output.secret(f"mock-password-{args.name}")
            rid = state.get("id") or f"{args.name}-id"
            return str(rid), state

        def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
            if args.token == "gcp:organizations/getProject:getProject":  # noqa: S105 -- a function token
                pid = str(args.args.get("projectId", "mock-project"))
                number = int(hashlib.sha256(pid.encode()).hexdigest()[:10], 16) % 10**12
                return {"projectId": pid, "number": f"{number:012d}", "name": pid}
            return {}

    class RecordingMonitor(pulumi_mocks.MockMonitor):
        """The mock monitor, keeping what each registration asked for."""

        def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
            super().__init__(mocks)
            self.recorded: list[PlannedResource] = []

        def RegisterResource(self, request: Any) -> Any:  # noqa: N802 -- gRPC method name
            response = super().RegisterResource(request)
            if request.type == "pulumi:pulumi:Stack":
                return response
            raw = rpc.deserialize_properties(request.object, keep_unknowns=True)
            secrets: list[str] = []
            inputs = _ints(_redact(raw, "", secrets))
            self.recorded.append(
                PlannedResource(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    inputs=inputs,
                    custom=bool(request.custom),
                    parent=request.parent or None,
                    provider=request.provider or None,
                    protect=bool(request.protect),
                    retain_on_delete=bool(getattr(request, "retainOnDelete", False)),
                    ignore_changes=list(request.ignoreChanges),
                    dependencies=list(request.dependencies),
                    secret_inputs=secrets,
                )
            )
            return response

    return IdfMocks, RecordingMonitor


@contextmanager
def collector_paused(*, then_freeze: bool = False) -> Iterator[None]:
    """Pause Python's cyclic garbage collector inside the block (restored after; nests).

    A plan's first run imports the providers' modules: some 400,000 long-lived objects (classes,
    typing objects), and the collector, triggered by allocation counts, traverses them again and
    again: about 1,000 collections, nearly half of `idf plan --all`. A program run leaves little
    cyclic garbage (some 20,000 objects), which the collector frees once it is back on.

    `then_freeze` is for a command whose process ends soon after: everything alive at the end of
    the block is moved out of the collector's sight (`gc.freeze`) instead of being traversed once
    more when it resumes (~0.3 s) and again at interpreter shutdown (~1.5 s). The cyclic garbage
    of the block is then kept until the process ends, a few MB per command in a longer process.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if then_freeze:
            gc.freeze()
        if was_enabled:
            gc.enable()


@collector_paused()
def run_offline(stack: str, document: dict[str, Any] | None = None, source: str | None = None) -> OfflinePlan:
    """Plan one stack under the mock engine; BadInput for a bad config.

    `stack` is a stack name or a stack-file path. Pass `document` (a stack-file mapping, e.g. one
    the scale-test sizing model rendered) to plan it instead of the file on disk.
    """
    import pulumi
    from pulumi.runtime import config as runtime_config
    from pulumi.runtime import settings as pulumi_settings

    from infra.config import (
        config_mapping_from_file,
        load_from_pulumi_config,
        load_stack_file,
        pulumi_config_from_mapping,
        resolve_stack_file,
        validate_config_mapping,
    )
    from infra.program import build

    if document is None:
        path = resolve_stack_file(stack)
        checked = load_stack_file(path)  # file errors name the file and key before anything runs
        document = config_mapping_from_file(path)
    else:
        checked = validate_config_mapping(document, source or f"{stack} (in memory)", stack)
    stack_name = checked.stack
    started = time.perf_counter()

    mocks_cls, monitor_cls = _mock_classes()
    mocks = mocks_cls()
    monitor = monitor_cls(mocks)
    # set_mocks builds a new root Stack resource only when none is set, and the root survives from
    # one program run to the next: without this, every stack after the first in one process
    # (`idf plan --all`, the test session) would parent its components to the first stack's root.
    pulumi_settings.ROOT.set(None)
    warnings = _WarningsKept()
    logger = logging.getLogger(f"idf.plan.{stack_name}")
    logger.propagate = False
    logger.handlers = [warnings]
    pulumi.runtime.set_mocks(
        mocks, project=PROJECT, stack=stack_name, preview=False, logger=logger, monitor=monitor
    )
    runtime_config.set_all_config(pulumi_config_from_mapping(document), [])
    captured: dict[str, Any] = {}
    errors: list[BaseException] = []

    @pulumi.runtime.test
    def program() -> pulumi.Output[Any]:
        try:
            cfg = load_from_pulumi_config(source=checked.source)
        except BadInput as exc:
            errors.append(exc)
            return pulumi.Output.from_input(None)
        return build(cfg).apply(lambda outputs: captured.update(outputs.exports()))

    program()
    if errors:
        raise errors[0]
    outputs = _ints(captured)
    return OfflinePlan(
        stack=stack_name,
        source=checked.source,
        resources=list(monitor.recorded),
        outputs=outputs,
        seconds=time.perf_counter() - started,
        warnings=list(dict.fromkeys(warnings.messages)),
    )


class _WarningsKept(logging.Handler):
    """Keeps the mock engine's warning and error messages (the program's ``pulumi.log.warn``)."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
