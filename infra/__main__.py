"""Entry point of `pulumi up -s <stack>` (Pulumi.yaml: `main: infra/`).

The configuration comes from `stacks/Pulumi.<stack>.yaml` through `pulumi.Config`; it is validated
before any resource is declared. A config problem stops the run with one message (no traceback).
"""

from __future__ import annotations

import sys
from pathlib import Path

# The language host runs the program directory (runpy.run_path("infra/")), which puts infra/ at
# the front of sys.path: our module names (dns, network, storage, kubernetes, config) would then
# shadow third-party top-level packages such as dnspython's `dns`. Import the program as the
# `infra` package from the repository root instead (a no-op when installed in .venv).
_PROGRAM_DIR = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _PROGRAM_DIR]
sys.path.insert(0, str(_PROGRAM_DIR.parent))

from idf_core.errors import BadInput  # noqa: E402 -- after the sys.path fix above
from infra.config import load_from_pulumi_config  # noqa: E402
from infra.program import build, export_all  # noqa: E402

try:
    stack_config = load_from_pulumi_config()
except BadInput as exc:
    sys.stderr.write(f"idf: error: {exc}\n")
    sys.exit(2)
export_all(build(stack_config))
