"""The JSON Schema of a stack file, exported to `stacks/stack.schema.json` (editors and CI read it).

It is generated from :class:`infra.config.models.StackFile`; a test checks the committed file is
current (`idf config schema --check`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from idf_core.paths import STACKS_DIR
from infra.config.models import StackFile

__all__ = ["SCHEMA_PATH", "stack_file_schema", "write_schema"]

SCHEMA_PATH = STACKS_DIR / "stack.schema.json"


def stack_file_schema() -> dict[str, Any]:
    """The JSON Schema of a whole stack file."""
    schema = StackFile.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/lsst/idf/stacks/stack.schema.json"
    return schema


def write_schema(path: Path = SCHEMA_PATH) -> Path:
    """Regenerate `stacks/stack.schema.json`."""
    path.write_text(json.dumps(stack_file_schema(), indent=2, sort_keys=True) + "\n")
    return path
