"""The one mypy cache of the test suite, outside the clone.

Two tests run mypy: tests/infra/test_infra_typecheck.py (the Pulumi program against the provider
stubs) and tests/test_code_quality.py (every package). Analysing pulumi-gcp's and
pulumi-kubernetes' stubs cold takes ~7 minutes on 2 cores, and a cold whole-repository run held
22 GB before the kernel's OOM killer stopped it (seen in a rehearsal). With one shared cache the
infra test (collected first) pays that once and the whole-repository run reuses it, as they shared
the clone's .mypy_cache before; outside the clone, a fresh clone on the same machine reuses it too.
mypy keys every entry by the file's content hash, so a changed module or stub is re-analysed.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["MYPY_CACHE", "mypy_cache_dir"]

MYPY_CACHE = Path("/var/cache/idf/mypy")


def mypy_cache_dir(fallback: Path) -> Path:
    """:data:`MYPY_CACHE`, or ``fallback`` when it cannot be created (not root)."""
    try:
        MYPY_CACHE.mkdir(parents=True, exist_ok=True)
    except OSError:
        fallback.mkdir(parents=True, exist_ok=True)
        return fallback
    return MYPY_CACHE
