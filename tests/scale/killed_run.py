"""`python -m scale.killed_run STATE_DIR STACK MARKER` (PYTHONPATH=tests): what `idf scale run` does
after writing its stack file (``idf_ops.scale.service.run_test``: up, publish, run the test command,
always down), over the offline local-state workspace, with a test command that signals it has
started and then waits to be killed."""

from __future__ import annotations

import sys
from pathlib import Path

from idf_ops.scale import service
from idf_ops.scale.local_state import LocalStateWorkspace


def main() -> int:  # pragma: no cover - runs in a subprocess that the test kills
    state_dir, stack, marker = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    test_command = [
        sys.executable,
        "-c",
        f"import pathlib, time; pathlib.Path({marker!r}).write_text('body-started'); time.sleep(300)",
    ]
    return service.run_test(
        LocalStateWorkspace(state_dir),
        stack,
        test_command,
        on_event=lambda message: print(f"[scale] {message}", flush=True),
        on_published=lambda published: None,
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
