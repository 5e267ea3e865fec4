"""The real :class:`~idf_ops.scale.lifecycle.ScaleWorkspace`: Pulumi's Automation API.

This module owns every call into `pulumi.automation` (a `LocalWorkspace` over the repository's
`Pulumi.yaml`, whose `stackConfigDir: stacks` makes `stacks/Pulumi.<stack>.yaml` the stack's
config). It needs the Pulumi CLI on PATH; without it, constructing the workspace raises one
:class:`~idf_core.errors.OperationFailed` that says so and points at `--dry-run` (FIELD-NOTES:
the Automation API otherwise dies with `FileNotFoundError: 'pulumi'`).

Interrupts: the Automation API runs the CLI as a child process and waits for it; a SIGINT from
a terminal reaches both, and the CLI cancels its update gracefully before the lifecycle's
teardown runs, so a destroy never races a running update.
"""

# pulumi.automation is imported only once the CLI is known to exist.
# ruff: noqa: PLC0415

from __future__ import annotations

import json
import shutil
from datetime import datetime
from typing import Any

from idf_core.errors import OperationFailed
from idf_core.facts import is_scale_stack
from idf_core.paths import REPO_ROOT
from idf_ops.scale.lifecycle import Event, StackInfo, StockoutError

__all__ = ["STOCKOUT_MARKERS", "AutomationWorkspace", "pulumi_cli_path"]

# Error texts of a zone stockout (terraform-provider-google #3304, #4116).
STOCKOUT_MARKERS = ("ZONE_RESOURCE_POOL_EXHAUSTED", "does not have enough resources available")
EXPIRES_AT_TAG = "idf:expires-at"
# The guardrail policy pack every real `up` runs with.
POLICY_PACK_DIR = REPO_ROOT / "infra" / "policy"

_NO_CLI = (
    "the Pulumi CLI is not installed (no `pulumi` on PATH), so `idf scale {verb}` cannot reach the "
    "cloud. Install it (https://www.pulumi.com/docs/install/) and log in to the state backend, or "
    "run offline with `idf scale {verb} {offline_flag}`."
)


def _no_cli(verb: str) -> str:
    return _NO_CLI.format(verb=verb, offline_flag="--offline" if verb == "status" else "--dry-run")


def pulumi_cli_path() -> str | None:
    """Path of the Pulumi CLI, or None."""
    return shutil.which("pulumi")


class AutomationWorkspace:
    """ScaleWorkspace over `pulumi.automation.LocalWorkspace`."""

    def __init__(self, verb: str) -> None:
        if pulumi_cli_path() is None:
            raise OperationFailed(_no_cli(verb))
        from pulumi import automation as auto

        self._auto = auto
        try:
            self._ws = auto.LocalWorkspace(work_dir=str(REPO_ROOT))
        except FileNotFoundError as exc:  # the CLI vanished between the check and the call
            raise OperationFailed(_no_cli(verb)) from exc

    def _stack(self, stack: str) -> Any:
        return self._auto.create_or_select_stack(stack_name=stack, work_dir=str(REPO_ROOT))

    def up(self, stack: str, *, use_zone_fallbacks: bool, on_event: Event) -> dict[str, Any]:
        """`pulumi up` on the stack file; StockoutError when the zone is out of capacity."""
        st = self._stack(stack)
        if use_zone_fallbacks:
            pools = json.loads(st.get_config("idf:node_pools").value)
            for pool in pools.values():
                pool["use_zone_fallbacks"] = True
            st.set_config("idf:node_pools", self._auto.ConfigValue(value=json.dumps(pools)))
        expires = self._earliest_expiry(st)
        if expires is not None:
            try:
                st.set_tag(EXPIRES_AT_TAG, expires.isoformat())
            except self._auto.errors.CommandError:
                on_event("state backend does not support stack tags; expiry stays in the stack config")
        try:
            # The guardrails run as in `pulumi up --policy-pack infra/policy` (runbooks/pulumi.md).
            result = st.up(on_output=on_event, policy_packs=[str(POLICY_PACK_DIR)])
        except self._auto.errors.CommandError as exc:
            text = str(exc)
            if any(marker in text for marker in STOCKOUT_MARKERS):
                raise StockoutError(text.splitlines()[-1] if text else "zone exhausted") from exc
            raise OperationFailed(f"pulumi up -s {stack} failed: {text[-2000:]}") from exc
        return {k: v.value for k, v in result.outputs.items()}

    def destroy(self, stack: str, *, on_event: Event) -> None:
        """`pulumi destroy`."""
        try:
            self._stack(stack).destroy(on_output=on_event)
        except self._auto.errors.CommandError as exc:
            raise OperationFailed(f"pulumi destroy -s {stack} failed: {str(exc)[-2000:]}") from exc

    def remove(self, stack: str) -> None:
        """`pulumi stack rm` (the stack is empty after destroy)."""
        try:
            self._ws.remove_stack(stack)
        except self._auto.errors.CommandError as exc:
            raise OperationFailed(f"pulumi stack rm {stack} failed: {str(exc)[-2000:]}") from exc

    def list_stacks(self) -> list[str]:
        """Stacks of the project in the current backend."""
        try:
            return [s.name for s in self._ws.list_stacks()]
        except self._auto.errors.CommandError as exc:
            raise OperationFailed(
                f"pulumi stack ls failed (logged in to the backend?): {str(exc)[-2000:]}"
            ) from exc

    def info(self, stack: str) -> StackInfo:
        """Temporary flag and expiry from the stack's config (tag as a fallback)."""
        try:
            st = self._auto.select_stack(stack_name=stack, work_dir=str(REPO_ROOT))
        except self._auto.errors.StackNotFoundError as exc:
            raise OperationFailed(
                f"no stack {stack!r} in the Pulumi backend: it is not up (or was destroyed and removed)"
            ) from exc
        config = st.get_all_config()
        meta = json.loads(config["idf:meta"].value) if "idf:meta" in config else {}
        temporary = bool(meta.get("temporary", False))
        expires = self._earliest_expiry(st)
        if expires is None:
            try:
                tag = st.get_tag(EXPIRES_AT_TAG)
            except self._auto.errors.CommandError:
                tag = None
            expires = datetime.fromisoformat(tag) if tag else None
        if not config and is_scale_stack(stack):
            # The reaper's container holds the committed stack files, not the one an operator's
            # `idf scale up` rendered; the state's own outputs say what was deployed and until when.
            temporary, expires = self._from_outputs(st)
        summary = next((s for s in self._ws.list_stacks() if s.name == stack), None)
        return StackInfo(
            name=stack,
            temporary=temporary,
            expires_at=expires,
            resource_count=summary.resource_count if summary is not None else None,
        )

    def _from_outputs(self, st: Any) -> tuple[bool, datetime | None]:
        """Temporary and expiry from the stack's `temporary_pools` output (pool -> expires_at)."""
        try:
            outputs = st.outputs()
        except self._auto.errors.CommandError:
            return False, None
        pools = outputs["temporary_pools"].value if "temporary_pools" in outputs else {}
        stamps = [datetime.fromisoformat(v) for v in (pools or {}).values()]
        return bool(stamps), min(stamps) if stamps else None

    @staticmethod
    def _earliest_expiry(st: Any) -> datetime | None:
        config = st.get_all_config()
        if "idf:node_pools" not in config:
            return None
        pools = json.loads(config["idf:node_pools"].value)
        stamps = [datetime.fromisoformat(p["expires_at"]) for p in pools.values() if p.get("expires_at")]
        return min(stamps) if stamps else None
