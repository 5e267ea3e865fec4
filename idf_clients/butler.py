"""The Gen3 Butler (lsst-daf-butler), opened from a repository config with one db-auth file.

daf_butler looks the registry password up through lsst.utils' DbAuth, which reads ``LSST_DB_AUTH``
from the process environment when the registry is built. Setting that variable, even only while one
Butler is built, is a race in a process that opens Butlers from several threads (the gates run their
checks concurrently: one check's restore once removed the variable while another check's writer was
being built, whose registry then got no password). So the given file's credentials are resolved here,
with DbAuth reading that file only, and handed to that one Butler's registry config in memory; the
process environment is never written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["open_butler", "registry_credentials"]

# DbAuth lets LSST_DB_AUTH / LSST_DB_AUTH_CREDENTIALS override the path it is given. These names are
# never set, so a caller's variables cannot replace the file the caller of open_butler chose.
_NO_ENV = "IDF_UNSET_DB_AUTH_OVERRIDE"


def registry_credentials(butler_config: Any, auth_file: Path) -> tuple[str, str] | None:
    """(username, password) for the registry of `butler_config` from `auth_file` alone, or None
    when the file has no entry for that registry (daf_butler's own lookup then applies)."""
    from lsst.daf.butler.registry import RegistryConfig  # noqa: PLC0415 - heavy, only when opened
    from lsst.utils.db_auth import DbAuth, DbAuthNotFoundError  # noqa: PLC0415
    from sqlalchemy.engine import url  # noqa: PLC0415

    registry = RegistryConfig(butler_config)
    db = url.make_url(registry["db"])
    try:
        username, password = DbAuth(str(auth_file), envVar=_NO_ENV, credsEnvVar=_NO_ENV).getAuth(
            db.drivername, db.username or registry.get("username"), db.host, db.port, db.database
        )
    except DbAuthNotFoundError:
        return None
    return (username, password) if username else None


def open_butler(config: str | Path, auth_file: Path | None, *, writeable: bool = False) -> Any:
    """``Butler.from_config(config)`` with `auth_file`'s credentials; ``None`` leaves the lookup to
    daf_butler (the user's own ``LSST_DB_AUTH``). Thread-safe: nothing global is changed."""
    from lsst.daf.butler import Butler, ButlerConfig  # noqa: PLC0415 - seconds to import

    if auth_file is None:
        return Butler.from_config(str(config), writeable=writeable)
    butler_config = ButlerConfig(str(config))
    credentials = registry_credentials(butler_config, auth_file)
    if credentials is not None:
        butler_config["registry", "username"], butler_config["registry", "password"] = credentials
    return Butler.from_config(butler_config, writeable=writeable)
