"""Run a Pulumi program under the mock engine and record what secrecy each value has.

The mock (``support.mocks``) gives every generated secret (``random:*`` results) a unique marker
value and returns it *plain*, as the mock engine does (it ignores ``additional_secret_outputs``,
FIELD-NOTES): so a
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

from support.mocks import Mocks, use_mocks

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

    def new_marker(self, name: str) -> str:
        """A unique plain value for the generated secret of resource ``name``."""
        marker = f"{MARKER}{len(self.markers)}x{name}"
        self.markers.add(marker)
        return marker

    def plain_leaks(self) -> list[str]:
        """Where a generated secret appears unwrapped: resource inputs and non-secret exports."""
        leaks = [
            f"{r.type}::{r.name} input {path}"
            for r in self.resources
            for path in _plain_marker_paths(r.inputs, "", self.markers)
        ]
        leaks += [
            f"export {key}"
            for key, (value, secret) in self.exports.items()
            if not secret and any(m in value for m in self.markers)
        ]
        return leaks

    def wrapped_uses(self) -> list[str]:
        """Where a generated secret reaches a resource wrapped as a secret (the intended path)."""
        return [
            f"{r.type}::{r.name}"
            for r in self.resources
            if any(m in json.dumps(r.inputs, default=str) for m in self.markers)
            and not list(_plain_marker_paths(r.inputs, "", self.markers))
        ]

    def unused_secrets(self) -> list[str]:
        """Generated secrets that reach no resource wrapped as a secret (generated for nothing)."""
        wrapped = [
            json.dumps(r.inputs, default=str)
            for r in self.resources
            if not list(_plain_marker_paths(r.inputs, "", self.markers))
        ]
        return sorted(m for m in self.markers if not any(m in inputs for inputs in wrapped))


def _plain_marker_paths(node: Any, path: str, markers: set[str]) -> list[str]:
    if isinstance(node, dict):
        if node.get(SECRET_SIG) == SECRET_SIG_VALUE:
            return []  # a secret value: whatever is inside is protected
        return [
            p
            for k, v in node.items()
            for p in _plain_marker_paths(v, f"{path}.{k}" if path else str(k), markers)
        ]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _plain_marker_paths(v, f"{path}[{i}]", markers)]
    if isinstance(node, str) and any(m in node for m in markers):
        return [path or "<value>"]
    return []


def run_mocked(stack: str, program: Callable[[], dict[str, Any]]) -> PlanCapture:
    """Run ``program`` (returns its exports) under fresh mocks for ``stack``; return the capture."""
    capture = PlanCapture()
    mocks = use_mocks(stack, mocks=Mocks(generated_secret=capture.new_marker))

    def record_options(args: pulumi.ResourceTransformationArgs) -> None:
        capture.secret_outputs_by_name[f"{args.type_}::{args.name}"] = list(
            args.opts.additional_secret_outputs or []
        )

    pulumi.runtime.register_stack_transformation(record_options)

    @pulumi.runtime.test
    def run() -> pulumi.Output[Any]:
        exports = program()

        def store(key: str) -> Callable[[list[Any]], None]:
            def apply(pair: list[Any]) -> None:
                value, secret = pair
                capture.exports[key] = (json.dumps(value, default=str), bool(secret))

            return apply

        return pulumi.Output.all(
            *[
                pulumi.Output.all(
                    pulumi.Output.from_input(value), pulumi.Output.from_input(value).is_secret()
                ).apply(store(key))
                for key, value in exports.items()
            ]
        )

    run()
    capture.resources = [
        Recorded(
            args.typ,
            args.name,
            dict(args.inputs),
            capture.secret_outputs_by_name.get(f"{args.typ}::{args.name}", []),
        )
        for args in mocks.registered
    ]
    return capture
