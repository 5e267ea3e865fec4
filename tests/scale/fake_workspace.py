"""A fake ScaleWorkspace: records every call, fails on demand (used in-process and in a subprocess)."""

from __future__ import annotations

import os
import signal
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from idf_ops.scale.lifecycle import Event, ScaleInterrupted, StackInfo, StockoutError, run_scale_test


class FakeWorkspace:
    """Stacks in memory; `calls` lists ("up"|"destroy"|"remove", stack, detail)."""

    def __init__(
        self,
        stacks: dict[str, StackInfo] | None = None,
        *,
        stockouts: int = 0,
        fail_up: bool = False,
        fail_destroy: bool = False,
        signal_during_destroy: int | None = None,
        log: Path | None = None,
    ) -> None:
        self.stacks = dict(stacks or {})
        self.calls: list[tuple[str, str, Any]] = []
        self._stockouts = stockouts
        self._fail_up = fail_up
        self._fail_destroy = fail_destroy
        self._signal_during_destroy = signal_during_destroy
        self._log = log

    def _record(self, verb: str, stack: str, detail: Any = None) -> None:
        self.calls.append((verb, stack, detail))
        if self._log is not None:
            with self._log.open("a") as fh:
                fh.write(f"{verb} {stack} {detail}\n")

    def verbs(self) -> list[str]:
        """The verbs called, in order."""
        return [verb for verb, _, _ in self.calls]

    def up(self, stack: str, *, use_zone_fallbacks: bool, on_event: Event) -> dict[str, Any]:
        self._record("up", stack, {"use_zone_fallbacks": use_zone_fallbacks})
        if self._stockouts > 0:
            self._stockouts -= 1
            raise StockoutError("ZONE_RESOURCE_POOL_EXHAUSTED in us-central1-b")
        if self._fail_up:
            raise RuntimeError("quota CPUS exceeded")
        self.stacks.setdefault(stack, StackInfo(name=stack, temporary=True, expires_at=None))
        return {"qserv": {"host": "10.0.0.1", "port": 4040}}

    def destroy(self, stack: str, *, on_event: Event) -> None:
        self._record("destroy-start", stack)
        if self._signal_during_destroy is not None:
            os.kill(os.getpid(), self._signal_during_destroy)
        if self._fail_destroy:
            raise RuntimeError("googleapi: Error 503")
        self._record("destroy", stack)

    def remove(self, stack: str) -> None:
        self._record("remove", stack)
        self.stacks.pop(stack, None)

    def list_stacks(self) -> list[str]:
        return sorted(self.stacks)

    def info(self, stack: str) -> StackInfo:
        return self.stacks[stack]


def info(name: str, *, temporary: bool, expires_at: datetime | None) -> StackInfo:
    """A StackInfo for the fake."""
    return StackInfo(name=name, temporary=temporary, expires_at=expires_at)


def _child_main() -> None:  # pragma: no cover - runs in a subprocess
    """`python -m scale.fake_workspace LOG` (PYTHONPATH=tests): a run whose body waits for a signal."""
    log = Path(sys.argv[1])
    ws = FakeWorkspace(log=log)

    def body(outputs: dict[str, Any]) -> int:
        with log.open("a") as fh:
            fh.write("body-started\n")
        time.sleep(30)
        return 0

    try:
        run_scale_test(ws, "qserv-scale75", body, on_event=lambda m: None)
    except ScaleInterrupted as exc:
        with log.open("a") as fh:
            fh.write(f"interrupted {signal.Signals(exc.signum).name}\n")
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    _child_main()
