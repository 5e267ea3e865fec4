"""PostgreSQL connection settings of the local stack's tools (password read from the secrets dir)."""

# psycopg2 is imported on first connection only.
# ruff: noqa: PLC0415

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from idf_core.errors import BadInput, OperationFailed

__all__ = ["PgConnection"]


class PgConnection(BaseModel):
    """Where and as whom a tool connects; the password stays in a root-only file."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(default="127.0.0.1", title="Host", description="PostgreSQL host (loopback locally).")
    port: int = Field(default=5432, title="Port", description="PostgreSQL TCP port.")
    database: str = Field(title="Database", description="Database name.")
    user: str = Field(title="User", description="Login role.")
    password_file: Path = Field(
        title="Password file", description="File holding the role's password (under /var/lib/idf/secrets)."
    )

    def password(self) -> str:
        """The password, or a message saying which file is missing and how to create it."""
        try:
            return self.password_file.read_text().strip()
        except OSError as exc:
            raise BadInput(
                f"{self.password_file}: cannot read the password of PostgreSQL role {self.user!r} "
                f"({exc.strerror}); "
                "run `idf local up` to generate it."
            ) from exc

    def sqlalchemy_url(self) -> str:
        """``postgresql+psycopg2://`` URL (SQLAlchemy 2.1 maps bare ``postgresql://`` to psycopg 3)."""
        from urllib.parse import quote

        return (
            f"postgresql+psycopg2://{quote(self.user)}:{quote(self.password(), safe='')}"
            f"@{self.host}:{self.port}/{self.database}"
        )

    def connect(self) -> Any:
        """A psycopg2 connection, or OperationFailed naming the service and the fix."""
        import psycopg2

        try:
            return psycopg2.connect(
                host=self.host,
                port=self.port,
                dbname=self.database,
                user=self.user,
                password=self.password(),
                connect_timeout=5,
                application_name="idf",
            )
        except psycopg2.OperationalError as exc:
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise OperationFailed(
                f"postgresql: cannot connect to {self.host}:{self.port}/{self.database} as {self.user} "
                f"({first_line}); start it with `supervisorctl start idf-postgresql` or run `idf local up`."
            ) from exc
