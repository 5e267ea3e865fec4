"""What the scale-test reaper costs (infra/reaper.py: Cloud Scheduler every few minutes starting a
Cloud Run job that runs `idf scale reap --unattended`), from its ``idf:reaper`` config and the
serverless price table ``data/prices/serverless-us-central1.yaml``.

List prices before the monthly free tiers, and a run billed for ``expected_run_seconds`` (a stated
assumption of the stack file: no run has been timed on Cloud Run), so an estimate, not a bill.
One definition: `idf scale plan` prices the reaper's share of a scale test with it.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from idf_core.errors import BadInput
from idf_core.paths import REPO_ROOT
from idf_ops.cost.prices import Rate
from infra.config import ReaperConfig

__all__ = ["SERVERLESS_PRICE_FILE", "ReaperCost", "reaper_cost"]

SERVERLESS_PRICE_FILE = REPO_ROOT / "data" / "prices" / "serverless-us-central1.yaml"


class _ServerlessPrices(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    region: str = Field(title="Region", description="Region of the prices.")
    currency: str = Field(pattern="^USD$", title="Currency", description="USD.")
    compiled_on: str = Field(title="Compiled on", description="Date the values were read.")
    hours_per_month: float = Field(gt=0, title="Hours per month", description="730, Google's convention.")
    sources: dict[str, str] = Field(title="Sources", description="Key -> where the value was read.")
    cloud_run_jobs_vcpu_usd_per_second: Rate = Field(title="Cloud Run jobs vCPU", description="Per vCPU-s.")
    cloud_run_jobs_memory_usd_per_gib_second: Rate = Field(
        title="Cloud Run jobs memory", description="Per GiB-s."
    )
    cloud_scheduler_usd_per_job_month: Rate = Field(title="Cloud Scheduler", description="Per job-month.")


class ReaperCost(BaseModel):
    """What the reaper costs (list prices, before any free tier: an upper bound)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    runs_per_month: float = Field(title="Runs per month", description="From the schedule.")
    usd_per_month: float = Field(title="USD per month", description="Cloud Run compute + the scheduler job.")
    usd_per_hour: float = Field(title="USD per hour", description="usd_per_month / hours_per_month.")
    detail: str = Field(title="Detail", description="The arithmetic.")
    price_file: str = Field(title="Price file", description="Where the rates come from.")


def _runs_per_hour(schedule: str) -> float:
    """Runs per hour of a unix-cron schedule whose hour, day, month and weekday fields are `*`."""
    minute, *rest = schedule.split()
    if any(field != "*" for field in rest):
        raise ValueError(
            f"schedule {schedule!r}: the cost estimate reads minute-only schedules (`*/15 * * * *`)"
        )
    if minute.startswith("*/"):
        return 60 / int(minute[2:])
    return float(len(minute.split(",")))


def _prices(path: Path) -> _ServerlessPrices:
    try:
        return _ServerlessPrices.model_validate(yaml.safe_load(path.read_text()))
    except FileNotFoundError:
        raise BadInput(f"{path}: price table not found; restore data/prices/ from git.") from None
    except (yaml.YAMLError, ValidationError) as exc:
        raise BadInput(
            f"{path}: not a serverless price table ({str(exc).splitlines()[0]}); fix it."
        ) from None


def reaper_cost(reaper: ReaperConfig, price_file: Path = SERVERLESS_PRICE_FILE) -> ReaperCost:
    """The reaper's monthly and hourly cost at list price (no free tier, ``expected_run_seconds`` a run)."""
    prices = _prices(price_file)
    runs = _runs_per_hour(reaper.schedule) * prices.hours_per_month
    seconds = runs * reaper.expected_run_seconds
    vcpu = seconds * reaper.cpu * prices.cloud_run_jobs_vcpu_usd_per_second.usd
    memory = seconds * reaper.memory_mib / 1024 * prices.cloud_run_jobs_memory_usd_per_gib_second.usd
    scheduler = prices.cloud_scheduler_usd_per_job_month.usd
    total = vcpu + memory + scheduler
    return ReaperCost(
        runs_per_month=runs,
        usd_per_month=total,
        usd_per_hour=total / prices.hours_per_month,
        detail=(
            f"{runs:.0f} runs x {reaper.expected_run_seconds} s x ({reaper.cpu} vCPU, "
            f"{reaper.memory_mib} MiB) = ${vcpu:.2f} vCPU + ${memory:.2f} memory; scheduler ${scheduler:.2f}"
        ),
        price_file=str(price_file.name),
    )
