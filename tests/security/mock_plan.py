"""Run a Pulumi program under the mock engine and record what secrecy each value has.

The mock gives every generated secret (``random:*`` results) a unique marker value and returns
it *plain*, as the mock engine does (it ignores ``additional_secret_outputs``, FIELD-NOTES): so a
marker that reaches a resource input or a stack export unwrapped is a leak the program itself
caused, and one that arrives wrapped as a secret was protected by the program or the provider SDK.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import rpc

__all__ = ["SECRET_SIG", "PlanCapture", "Recorded", "run_mocked"]

# How the engine marks a serialized secret: {SECRET_SIG: SECRET_SIG_VALUE, "value": ...}.
SECRET_SIG = rpc._special_sig_key
SECRET_SIG_VALUE = rpc._special_secret_sig
MARKER = "idfGeneratedSecret"


@dataclass
class Recorded:
    """One resource as the engine received it."""

    type: str
    name: str
    inputs: dict[str, Any]
    additional_secret_outputs: list[str]


@dataclass
class PlanCapture:
    """Everything a mocked run produced."""

    resources: list[Recorded] = field(default_factory=list)
    secret_outputs_by_name: dict[str, list[str]] = field(default_factory=dict)
    exports: dict[str, tuple[str, bool]] = field(default_factory=dict)  # key -> (JSON value, is_secret)
    markers: set[str] = field(default_factory=set)

    def plain_leaks(self) -> list[str]:
        """Where a generated secret appears unwrapped: resource inputs and non-secret exports."""
        leaks = [f"{r.type}::{r.name} input {path}" for r in self.resources
                 for path in _plain_marker_paths(r.inputs, "", self.markers)]
        leaks += [f"export {key}" for key, (value, secret) in self.exports.items()
                  if not secret and any(m in value for m in self.markers)]
        return leaks

    def wrapped_uses(self) -> list[str]:
        """Where a generated secret reaches a resource wrapped as a secret (the intended path)."""
        return [f"{r.type}::{r.name}" for r in self.resources
                if any(m in json.dumps(r.inputs, default=str) for m in self.markers)
                and not list(_plain_marker_paths(r.inputs, "", self.markers))]


def _plain_marker_paths(node: Any, path: str, markers: set[str]) -> list[str]:
    if isinstance(node, dict):
        if node.get(SECRET_SIG) == SECRET_SIG_VALUE:
            return []  # a secret value: whatever is inside is protected
        return [p for k, v in node.items()
                for p in _plain_marker_paths(v, f"{path}.{k}" if path else str(k), markers)]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _plain_marker_paths(v, f"{path}[{i}]", markers)]
    if isinstance(node, str) and any(m in node for m in markers):
        return [path or "<value>"]
    return []


class _Mocks(pulumi.runtime.Mocks):
    def __init__(self, capture: PlanCapture) -> None:
        self.capture = capture

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        outputs = dict(args.inputs)
        if args.typ.startswith("random:"):
            marker = f"{MARKER}{len(self.capture.markers)}x{args.name}"
            self.capture.markers.add(marker)
            outputs["result"] = marker
        if args.typ == "gcp:container/cluster:Cluster":
            outputs.setdefault("endpoint", "10.0.0.2")
            outputs.setdefault("masterAuth", {"clusterCaCertificate": "Y2E="})
        self.capture.resources.append(Recorded(args.typ, args.name, dict(args.inputs), []))
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return {}


def run_mocked(stack: str, program: Callable[[], dict[str, Any]]) -> PlanCapture:
    """Run ``program`` (returns its exports) under fresh mocks for ``stack``; return the capture."""
    capture = PlanCapture()
    pulumi.runtime.set_mocks(_Mocks(capture), project="idf", stack=stack, preview=False)

    def record_options(args: pulumi.ResourceTransformationArgs) -> None:
        capture.secret_outputs_by_name[f"{args.type_}::{args.name}"] = list(
            args.opts.additional_secret_outputs or [])

    pulumi.runtime.register_stack_transformation(record_options)

    @pulumi.runtime.test
    def run() -> pulumi.Output[Any]:
        exports = program()

        def store(key: str) -> Callable[[list[Any]], None]:
            def apply(pair: list[Any]) -> None:
                value, secret = pair
                capture.exports[key] = (json.dumps(value, default=str), bool(secret))

            return apply

        return pulumi.Output.all(*[
            pulumi.Output.all(pulumi.Output.from_input(value), pulumi.Output.from_input(value).is_secret())
            .apply(store(key))
            for key, value in exports.items()
        ])

    run()
    for resource in capture.resources:
        resource.additional_secret_outputs = capture.secret_outputs_by_name.get(
            f"{resource.type}::{resource.name}", [])
    return capture
