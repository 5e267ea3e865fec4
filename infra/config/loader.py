"""Reading stack configuration: from a file on disk or through `pulumi.Config`, validated at once.

:func:`validate_config_mapping` is the one gate every reader goes through. It reports **every**
problem of a document, not only the first:

1. keys without a namespace (``region:`` instead of ``gcp:region``);
2. every schema error pydantic finds in the whole document (pydantic itself does not stop early);
3. the file-name rule (``idf:meta.environment`` equals ``<stack>`` of ``Pulumi.<stack>.yaml``) and
   every cross-field check of :data:`infra.config.checks.CHECKS`.

When the schema fails, step 3 still runs on the sections that parsed: each top-level section
(``idf:network``, ``idf:node_pools``, ...) is validated on its own, and a check runs only if every
section it reads is valid. We chose section granularity because the checks are written against
typed sections; running a check on a half-parsed section would report problems that are only
echoes of the schema error (a qserv pool "missing" because the pool had a typo). So a typo in
``idf:gke`` and an overlapping CIDR in ``idf:network`` are reported together; a schema error and a
cross-field problem in the *same* section show the schema error first, the rest after its fix.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import TypeAdapter, ValidationError

from idf_core.errors import BadInput
from idf_core.paths import REPO_ROOT, STACKS_DIR, read_text_bounded
from infra.config.checks import run_checks
from infra.config.models import GCP_KEYS, IDF_SECTIONS, StackConfig, StackFile
from infra.config.problems import Problem, StackConfigError, schema_problems

__all__ = [
    "StackFileReport",
    "config_mapping_from_file",
    "config_problems",
    "dump_stack_file",
    "load_from_pulumi_config",
    "load_stack_file",
    "pulumi_config_from_mapping",
    "resolve_stack_file",
    "stack_name_of",
    "validate_config_mapping",
    "validate_stack_files",
]

# The namespaces a `config:` key may have (`gcp:project`, `idf:network`).
NAMESPACES = ("gcp", "idf")
NOT_A_MAPPING = "the file must be a YAML mapping with a top-level `config:` key"


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------


def config_problems(
    document: dict[str, Any], stack_name: str | None = None
) -> tuple[StackConfig | None, list[Problem]]:
    """The typed config (None unless valid) and every problem of a stack-file mapping."""
    problems, document = _unnamespaced_keys(document)
    try:
        cfg: StackConfig | None = StackFile.model_validate(document).config
    except ValidationError as exc:
        cfg = None
        problems += schema_problems(exc)
        partial, valid = _valid_sections(document.get("config"), exc)
    else:
        partial, valid = cfg, set(StackConfig.model_fields)
    if partial is not None:
        problems += _file_name_problems(partial, valid, stack_name)
        problems += run_checks(partial, valid)
    return (None if problems else cfg), problems


def validate_config_mapping(document: Any, source: str, stack_name: str | None = None) -> StackConfig:
    """Validate a whole stack-file mapping (`{"config": {...}}`) and return the typed config.

    Raises :class:`StackConfigError` (a `BadInput`) naming every problem, one line each.
    """
    if not isinstance(document, dict):
        raise BadInput(f"{source}: {NOT_A_MAPPING}")
    cfg, problems = config_problems(document, stack_name)
    if cfg is None:
        raise StackConfigError(source, problems)
    cfg._source = source  # noqa: SLF001 -- the loader owns the model's private source attribute
    return cfg


def _unnamespaced_keys(document: dict[str, Any]) -> tuple[list[Problem], dict[str, Any]]:
    """Problems for `config:` keys without a gcp:/idf: namespace, and the document without them.

    They are removed before pydantic sees them: the models accept python field names too
    (`populate_by_name`), so a bare `network:` would otherwise pass for `idf:network`.
    """
    config = document.get("config")
    if not isinstance(config, dict):
        return [], document
    bare = [key for key in config if str(key).partition(":")[0] not in NAMESPACES or ":" not in str(key)]
    problems = [
        Problem(
            f"config.{key}",
            "unexpected key; stack files hold only gcp:project, gcp:region and idf:<section> keys "
            "(namespace the key, e.g. idf:network)",
        )
        for key in bare
    ]
    kept = {key: value for key, value in config.items() if key not in bare}
    return problems, {**document, "config": kept}


@cache
def _field_adapter(name: str) -> TypeAdapter[Any]:
    """A validator of one StackConfig field alone (its type and constraints)."""
    field = StackConfig.model_fields[name]
    annotation: Any = field.annotation
    for constraint in field.metadata:
        annotation = Annotated[annotation, constraint]
    return TypeAdapter(annotation)


def _valid_sections(config: Any, exc: ValidationError) -> tuple[StackConfig | None, set[str]]:
    """A StackConfig holding only the sections that passed validation, and their field names.

    Built with `model_construct`: the sections that failed are absent, and only checks that do not
    read them run (:func:`infra.config.checks.run_checks`).
    """
    if not isinstance(config, dict):
        return None, set()
    failed = {e["loc"][1] for e in exc.errors() if e["loc"][:1] == ("config",) and len(e["loc"]) > 1}
    values: dict[str, Any] = {}
    for name, field in StackConfig.model_fields.items():
        key = field.alias or name
        if key in failed:
            continue
        if key not in config:
            if not field.is_required():
                values[name] = field.get_default(call_default_factory=True)
            continue
        try:
            values[name] = _field_adapter(name).validate_python(config[key])
        except ValidationError:  # not expected: the whole-document validation passed this key
            continue
    return StackConfig.model_construct(**values), set(values)


def _file_name_problems(cfg: StackConfig, valid: set[str], stack_name: str | None) -> list[Problem]:
    """`Pulumi.<stack>.yaml` configures stack <stack>: a rule between the file and its content."""
    if stack_name is None or "meta" not in valid or cfg.meta.environment == stack_name:
        return []
    return [
        Problem(
            "config.idf:meta.environment",
            f"is {cfg.meta.environment!r} but the file is for stack {stack_name!r}; make them equal",
        )
    ]


# --------------------------------------------------------------------------------------------
# files
# --------------------------------------------------------------------------------------------


def resolve_stack_file(name_or_path: str) -> Path:
    """A stack name (`dp01`) or a path -> the stack file path; BadInput if absent."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") or "/" in name_or_path:
        if not candidate.exists():
            raise BadInput(f"{candidate}: no such stack file; give a stack name or an existing path")
        return candidate
    path = STACKS_DIR / f"Pulumi.{name_or_path}.yaml"
    if not path.exists():
        known = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in STACKS_DIR.glob("Pulumi.*.yaml"))
        close = difflib.get_close_matches(name_or_path, known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known stacks: {', '.join(known)}"
        raise BadInput(f"{path}: no stack {name_or_path!r}; {hint}")
    return path


def stack_name_of(path: Path) -> str | None:
    """`Pulumi.dp01.yaml` -> `dp01` (None for other file names)."""
    match = re.match(r"^Pulumi\.(.+)\.ya?ml$", path.name)
    return match.group(1) if match else None


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


# The most a stack file may be. Ours are under 5 KB; 1 MiB is 200 times that, and bounds what a
# mistyped path (a log, an image, /dev/zero) can cost: the bytes read and YAML's parse time.
MAX_STACK_FILE_BYTES = 1024 * 1024
# How deep and how big the parsed document may be. Ours are 5 levels deep and hold ~300 values;
# the limits stop a crafted file (YAML anchors re-used a million times, `[[[[...]]]]`) before the
# validators, which recurse and expand, see it.
MAX_STACK_FILE_DEPTH = 32
MAX_STACK_FILE_VALUES = 100_000


def _document_shape_problem(document: Any) -> str | None:
    """Why the parsed document is too deep or too big to validate, or None. Iterative and bounded:
    it stops at the first limit, whatever the document (aliases are counted at every use)."""
    pending: list[tuple[Any, int]] = [(document, 1)]
    values = 0
    while pending:
        node, depth = pending.pop()
        values += 1
        if values > MAX_STACK_FILE_VALUES:
            return f"holds more than {MAX_STACK_FILE_VALUES:,} values (YAML aliases count at every use)"
        if depth > MAX_STACK_FILE_DEPTH:
            return f"nests deeper than {MAX_STACK_FILE_DEPTH} levels"
        if isinstance(node, dict):
            pending.extend((child, depth + 1) for child in node.values())
        elif isinstance(node, list):
            pending.extend((child, depth + 1) for child in node)
    return None


def config_mapping_from_file(path: Path) -> dict[str, Any]:
    """Read a stack file's YAML: a regular UTF-8 file of at most 1 MiB, of bounded depth and size
    (anything else, and syntax errors, -> BadInput)."""
    text = read_text_bounded(path, what="stack file", max_bytes=MAX_STACK_FILE_BYTES)
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise BadInput(f"{_display(path)}:{where}: not valid YAML ({exc}); fix the syntax") from None
    except RecursionError:
        raise BadInput(
            f"{_display(path)}: nests too deeply to parse; a stack file is a few levels deep"
        ) from None
    if not isinstance(document, dict):
        raise BadInput(f"{_display(path)}: {NOT_A_MAPPING}")
    problem = _document_shape_problem(document)
    if problem is not None:
        raise BadInput(f"{_display(path)}: {problem}; a stack file is a few levels deep and small")
    return document


def load_stack_file(path: Path) -> StackConfig:
    """Load and validate a stack file."""
    return validate_config_mapping(config_mapping_from_file(path), _display(path), stack_name_of(path))


@dataclass(frozen=True)
class StackFileReport:
    """The verdict on one stack file named by the operator: its config, or why it is not valid."""

    target: str
    path: Path | None
    config: StackConfig | None
    error: BadInput | None

    @property
    def problem_lines(self) -> list[str]:
        """One line per problem (`<file>: <key path>: <what>; <what to do>`); empty when valid."""
        if self.error is None:
            return []
        if isinstance(self.error, StackConfigError):
            return self.error.lines()
        return str(self.error).splitlines()


def validate_stack_files(targets: Iterable[str]) -> list[StackFileReport]:
    """Validate every stack named (name or path), each with all its problems; never stops early."""
    reports = []
    for target in targets:
        path: Path | None = None
        try:
            path = resolve_stack_file(target)
            reports.append(StackFileReport(target, path, load_stack_file(path), None))
        except BadInput as exc:
            reports.append(StackFileReport(target, path, None, exc))
    return reports


def dump_stack_file(cfg: StackConfig, path: Path, header: str = "") -> Path:
    """Write a validated config as a stack file (the scale-test sizing model regenerates
    `Pulumi.qserv-scale75.yaml` this way). Defaults are omitted; the file is re-validated."""
    body = {"config": cfg.model_dump(by_alias=True, mode="json", exclude_defaults=True)}
    comment = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    path.write_text(comment + yaml.safe_dump(body, sort_keys=False, width=110))
    load_stack_file(path)
    return path


# --------------------------------------------------------------------------------------------
# pulumi.Config
# --------------------------------------------------------------------------------------------


def _parse_config_value(raw: Any) -> Any:
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            return raw
    return raw


def _unknown_idf_keys(present: Iterable[str]) -> list[Problem]:
    """`idf:` keys that name no section, each with a suggestion."""
    allowed = list(IDF_SECTIONS)
    problems = []
    for key in sorted(present):
        section = key.split(":", 1)[1] if key.startswith("idf:") else None
        if section is None or section in IDF_SECTIONS:
            continue
        close = difflib.get_close_matches(section, allowed, n=1)
        hint = f"did you mean 'idf:{close[0]}'?" if close else f"allowed: idf:{', idf:'.join(allowed)}"
        problems.append(Problem(f"config.{key}", f"unknown key; {hint}"))
    return problems


def load_from_pulumi_config(source: str | None = None) -> StackConfig:
    """Read the stack configuration through `pulumi.Config` (real CLI or mock engine alike).

    Unknown keys in the `idf:` namespace are rejected with a suggestion, exactly as in a file, and
    reported together with every other problem.
    """
    import pulumi  # noqa: PLC0415 -- `idf config validate` must not pay for importing Pulumi
    from pulumi.runtime import config as runtime_config  # noqa: PLC0415

    stack = pulumi.get_stack()
    where = source or f"stacks/Pulumi.{stack}.yaml (via pulumi.Config)"
    unknown = _unknown_idf_keys(set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env()))
    config: dict[str, Any] = {}
    gcp = pulumi.Config("gcp")
    for key in GCP_KEYS:
        value = gcp.get(key)
        if value is not None:
            config[f"gcp:{key}"] = value
    idf = pulumi.Config("idf")
    for section in IDF_SECTIONS:
        raw = idf.get(section)
        if raw is not None:
            config[f"idf:{section}"] = _parse_config_value(raw)
    cfg, problems = config_problems({"config": config}, stack)
    if cfg is None or unknown:
        raise StackConfigError(where, unknown + problems)
    cfg._source = where  # noqa: SLF001 -- the loader owns the model's private source attribute
    return cfg


def pulumi_config_from_mapping(document: dict[str, Any]) -> dict[str, str]:
    """A stack file's `config:` as the flat string map the Pulumi engine passes a program."""
    out: dict[str, str] = {}
    for key, value in (document.get("config") or {}).items():
        out[str(key)] = value if isinstance(value, str) else json.dumps(value, default=str)
    return out
