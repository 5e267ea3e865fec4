"""The load-test profile model: who runs (user classes, weights), how many, how long, and the SLOs.

A profile is a YAML file in ``loadtests/profiles/``; :class:`Profile` validates it. Every run is
bounded three ways: ``users`` (concurrency), ``run_time_s`` (wall clock) and
``max_iterations_per_user`` (count), so a profile always stops itself.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "USER_CLASS_NAMES",
    "NotebookSettings",
    "Profile",
    "SloThreshold",
    "ThinkTime",
    "UserClassEntry",
]

# The Locust user classes the locustfile exposes, and which service each one needs.
USER_CLASS_NAMES: dict[str, Literal["tap", "qserv", "hub"]] = {
    "TapLowVolumeUser": "tap",
    "TapHighVolumeUser": "tap",
    "QservLowVolumeUser": "qserv",
    "QservHighVolumeUser": "qserv",
    "NotebookUser": "hub",
}

_KIND_PATTERN = re.compile(r"^[A-Za-z0-9_.*?\[\]-]+$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ThinkTime(_Model):
    """Pause between two tasks of one user, drawn uniformly from [min_s, max_s]."""

    min_s: float = Field(ge=0, title="Minimum think time (s)", description="Shortest pause between tasks.")
    max_s: float = Field(ge=0, title="Maximum think time (s)", description="Longest pause between tasks.")

    @model_validator(mode="after")
    def _ordered(self) -> ThinkTime:
        if self.max_s < self.min_s:
            raise ValueError(f"max_s ({self.max_s}) is below min_s ({self.min_s})")
        return self


class UserClassEntry(_Model):
    """One Locust user class taking part in the run."""

    user_class: Literal[
        "TapLowVolumeUser", "TapHighVolumeUser", "QservLowVolumeUser", "QservHighVolumeUser", "NotebookUser"
    ] = Field(alias="class", title="User class", description="Name of a user class in `loadtests/users/`.")
    weight: int | None = Field(
        default=None, ge=1, title="Weight", description="Relative share of the users (Locust weight)."
    )
    fixed_count: int | None = Field(
        default=None,
        ge=1,
        title="Fixed user count",
        description="Exactly this many users of the class (Locust fixed_count); wins over weight.",
    )
    think_time: ThinkTime | None = Field(
        default=None, title="Think time", description="Overrides the profile's think time for this class."
    )

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _weight_or_count(self) -> UserClassEntry:
        if self.weight is None and self.fixed_count is None:
            raise ValueError("give `weight` or `fixed_count`")
        return self


class SloThreshold(_Model):
    """Thresholds for the request kinds whose Locust name matches ``kind`` (shell-style glob).

    By default each matching kind must meet every threshold on its own; with ``aggregate: true``
    the matching kinds are merged into one distribution first (LDM-552's "LV p95 < 10 s" is over
    all low-volume queries). Fewer than ``min_requests`` requests over the matching kinds is itself
    a breach (nothing measured is not a pass).
    """

    kind: str = Field(
        title="Request kind",
        description="Locust request name or glob, e.g. `tap.lv.*` or `qserv.scan.count`.",
    )
    p95_ms: float | None = Field(default=None, gt=0, title="p95 (ms)", description="Max 95th percentile.")
    p99_ms: float | None = Field(default=None, gt=0, title="p99 (ms)", description="Max 99th percentile.")
    max_ms: float | None = Field(
        default=None, gt=0, title="Max (ms)", description="Max single response time (e.g. a full scan < 1 h)."
    )
    max_failure_ratio: float = Field(
        default=0.0, ge=0, le=1, title="Max failure ratio", description="Failures / requests allowed (0-1)."
    )
    min_requests: int = Field(
        default=1,
        ge=0,
        title="Min requests",
        description="Fewer requests than this over the matching kinds fails.",
    )
    aggregate: bool = Field(
        default=False,
        title="Aggregate",
        description="Check the merged distribution of all matching kinds instead of each kind.",
    )

    @model_validator(mode="after")
    def _pattern(self) -> SloThreshold:
        if not _KIND_PATTERN.match(self.kind):
            raise ValueError(f"kind {self.kind!r} may hold only letters, digits, `._-` and glob characters")
        return self


class NotebookSettings(_Model):
    """How Science Platform users spawn labs and what cell they run (mobu's notebook runner flow)."""

    spawn_batch_size: int = Field(
        default=5, ge=1, title="Spawn batch size", description="Users that may start spawning at once."
    )
    spawn_batch_wait_s: float = Field(
        default=10.0, ge=0, title="Spawn batch wait (s)", description="Delay between two batches of spawns."
    )
    spawn_timeout_s: float = Field(
        default=180.0, gt=0, title="Spawn timeout (s)", description="Give up on a lab not ready after this."
    )
    executions_per_lab: int = Field(
        default=5,
        ge=1,
        title="Executions per lab",
        description="Cells run in one lab before it is stopped and respawned.",
    )
    cell_timeout_s: float = Field(
        default=60.0,
        gt=0,
        title="Cell timeout (s)",
        description="Give up on a cell without a reply after this.",
    )
    user_prefix: str = Field(
        default="loadtest",
        pattern=r"^[a-z][a-z0-9-]{0,30}$",
        title="User name prefix",
        description="Hub users are named <prefix>-<n>; they are created with the admin token.",
    )


class Profile(_Model):
    """One load-test profile (a file in ``loadtests/profiles/``)."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", title="Name", description="Equals the file's stem.")
    description: str = Field(title="Description", description="What the profile proves, and its source.")
    users: int = Field(ge=1, le=2000, title="Users", description="Concurrent simulated users.")
    spawn_rate_per_s: float = Field(
        gt=0, title="Spawn rate (users/s)", description="Users started per second."
    )
    run_time_s: int = Field(
        ge=5, le=24 * 3600, title="Run time (s)", description="Wall-clock bound of the run."
    )
    max_iterations_per_user: int = Field(
        ge=1,
        title="Iteration cap per user",
        description="A user stops after this many tasks; the run ends when every user has stopped.",
    )
    stop_timeout_s: int = Field(
        default=15, ge=0, title="Stop timeout (s)", description="Grace for in-flight tasks when the run ends."
    )
    think_time: ThinkTime = Field(
        title="Think time", description="Default pause between two tasks of a user."
    )
    user_classes: list[UserClassEntry] = Field(
        min_length=1,
        title="User classes",
        description="Participating user classes with weights or fixed counts.",
    )
    notebook: NotebookSettings = Field(
        default_factory=NotebookSettings,
        title="Notebook settings",
        description="Only used when NotebookUser takes part.",
    )
    tap_job_timeout_s: float = Field(
        default=3600.0,
        gt=0,
        title="TAP async job timeout (s)",
        description="High-volume UWS jobs not finished within this are aborted and counted as failures.",
    )
    slos: list[SloThreshold] = Field(
        min_length=1,
        title="SLOs",
        description="Thresholds per request kind; the run fails if one is breached.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        names = [entry.user_class for entry in self.user_classes]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"user class listed twice: {', '.join(duplicates)}")
        fixed = sum(entry.fixed_count or 0 for entry in self.user_classes)
        if fixed > self.users:
            raise ValueError(f"fixed_count adds up to {fixed}, more than users ({self.users})")
        if fixed < self.users and all(entry.weight is None for entry in self.user_classes):
            raise ValueError(
                f"fixed_count adds up to {fixed} but users is {self.users} and no class has a weight "
                "to take the rest"
            )
        return self

    def services(self) -> set[str]:
        """The services (tap, qserv, hub) this profile's users talk to."""
        return {USER_CLASS_NAMES[entry.user_class] for entry in self.user_classes}
