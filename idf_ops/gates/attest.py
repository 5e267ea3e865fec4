"""`idf gates attest` as a service: validate one attestation and append it to the attestations file.

An attestation is a person's signed statement that a manual checkpoint (one without automated
gates) is met. It records who, when, the evidence URL and the commit of this repository at
signing. Refused, each with a :class:`~idf_core.errors.BadInput` naming the fix: an unknown
checkpoint, a checkpoint with automated gates (the gates decide), a date in the future, a missing
or non-http(s) evidence URL, and a checkout whose commit cannot be read.

The file is rewritten atomically: its leading comment block is kept, the entries are dumped in
order (the new one last), and the result is loaded back through
:func:`~idf_ops.gates.registry.load_attestations` before it replaces the old file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml
from pydantic import ValidationError

from idf_core.errors import BadInput
from idf_ops.gates.registry import (
    ATTESTATIONS_PATH,
    REGISTRY_PATH,
    Attestation,
    AttestationFile,
    load_attestations,
    load_registry,
)
from idf_ops.loadtest.provenance import repository_commit

__all__ = ["attest"]


def _header(text: str) -> str:
    """The leading comment block of the file (kept as it is)."""
    lines = []
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            lines.append(line)
        else:
            break
    return "\n".join(lines).rstrip() + "\n" if lines else ""


def attest(
    checkpoint_id: str,
    *,
    by: str,
    evidence_url: str | None,
    on: dt.date | None = None,
    note: str | None = None,
    today: dt.date | None = None,
    commit: str | None = None,
    registry_path: Path = REGISTRY_PATH,
    attestations_path: Path = ATTESTATIONS_PATH,
) -> Attestation:
    """Append a validated attestation of `checkpoint_id` to the attestations file; return it."""
    today = today or dt.datetime.now(dt.UTC).date()
    registry = load_registry(registry_path)
    load_attestations(registry, attestations_path)  # the file as it is must be valid first
    checkpoint = registry.get(checkpoint_id)
    if checkpoint is None:
        manual = ", ".join(c.id for c in registry.checkpoints if c.is_manual)
        raise BadInput(f"unknown checkpoint {checkpoint_id!r}; manual checkpoints: {manual}")
    if not checkpoint.is_manual:
        raise BadInput(
            f"{checkpoint.id} has automated gates ({', '.join(g.id for g in checkpoint.gates)}): the gates "
            f"decide it, not an attestation; run `idf gates check {checkpoint.id} --stack <stack>`."
        )
    if not evidence_url or not evidence_url.strip():
        raise BadInput(
            "--evidence: an attestation needs an evidence URL (Jira issue, document, announcement)."
        )
    if not evidence_url.startswith(("https://", "http://")):
        raise BadInput(f"--evidence {evidence_url!r}: give an http(s) URL where the evidence can be read.")
    on = on or today
    if on > today:
        raise BadInput(
            f"--on {on}: in the future (today is {today}); attest on or after the day it happened."
        )
    if commit is None:
        commit, _dirty = repository_commit()
        if commit is None:
            raise BadInput(
                "cannot read this repository's commit (`git rev-parse HEAD`): attest from a git checkout."
            )
    try:
        entry = Attestation.model_validate({
            "checkpoint": checkpoint.id,
            "attested_by": by.strip(),
            "attested_on": on,
            "evidence_url": evidence_url.strip(),
            "repository_commit": commit,
            "note": note,
        })  # fmt: skip
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise BadInput(
            f"attestation of {checkpoint.id} refused ({problems}); fix --by / --evidence."
        ) from exc

    text = attestations_path.read_text()
    existing = AttestationFile.model_validate(yaml.safe_load(text) or {})
    document = AttestationFile(attestations=[*existing.attestations, entry])
    dumped = yaml.safe_dump(document.model_dump(mode="json", exclude_none=True), sort_keys=False)
    tmp = attestations_path.with_suffix(attestations_path.suffix + ".tmp")
    tmp.write_text(_header(text) + dumped)
    try:
        load_attestations(registry, tmp)
    except BadInput:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(attestations_path)
    return entry
