"""The run configuration the runner hands to the locustfile (a JSON file named by an env variable).

It is the profile plus the targets taken from the stack outputs contract, resolved once by
``idf loadtest run``, so that every Locust process (master, workers, GKE pods) sees the same
run. It never holds a secret: only where to read one (a file path or an env variable name).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from loadtests.profile import Profile

__all__ = ["FINAL_STATS_ENV", "RUN_CONFIG_ENV", "QservTarget", "RunConfig", "load_run_config"]

RUN_CONFIG_ENV = "IDF_LOADTEST_RUN_CONFIG"
# Where the master (or standalone runner) writes its final statistics at shutdown: per kind, total,
# and merged per SLO pattern. (Locust's CSV writer samples every second and misses the last one.)
FINAL_STATS_ENV = "IDF_LOADTEST_FINAL_STATS"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class QservTarget(_Model):
    """Where and how Qserv users connect (the MySQL-protocol front end)."""

    host: str = Field(title="Host", description="Front-end host.")
    port: int = Field(title="Port", description="Front-end TCP port.")
    database: str = Field(title="Database", description="Catalog database.")
    dialect: Literal["qserv", "mariadb-standin"] = Field(
        title="Dialect", description="SQL dialect of the queries."
    )
    user: str = Field(title="User", description="MySQL user name.")
    password_file: str | None = Field(
        default=None, title="Password file", description="File holding the password (none: empty password)."
    )


class RunConfig(_Model):
    """Everything a Locust process needs to run one profile against one stack."""

    stack: str = Field(title="Stack", description="Stack name the targets come from.")
    profile: Profile = Field(title="Profile", description="The validated profile.")
    tap_url: str = Field(title="TAP URL", description="TAP base URL (…/tap), no trailing slash.")
    tap_dialect: Literal["rubin", "dachs"] = Field(
        default="rubin",
        title="TAP identifier dialect",
        description="`dachs`: quote mixed-case columns and serve `position` as `position_` (local stack).",
    )
    hub_url: str = Field(title="Hub URL", description="JupyterHub base URL, no trailing slash.")
    hub_token_file: str | None = Field(
        default=None, title="Hub admin token file", description="File holding a JupyterHub admin API token."
    )
    qserv: QservTarget = Field(title="Qserv", description="Qserv front end.")
    seed: int | None = Field(
        default=None, title="Random seed", description="Seed of query parameters (None: random)."
    )


def load_run_config() -> RunConfig:
    """Read the run configuration named by ``$IDF_LOADTEST_RUN_CONFIG``."""
    path = os.environ.get(RUN_CONFIG_ENV)
    if not path:
        raise RuntimeError(f"${RUN_CONFIG_ENV} is not set: start load tests with `idf loadtest run`")
    return RunConfig.model_validate_json(Path(path).read_text())
