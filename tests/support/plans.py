"""One offline plan per stack per test session.

Planning a stack runs the Pulumi program under the mock engine (``idf_ops.plan.run_offline``, what
``idf plan`` runs); every test that reads a stack's plan shares the one made on first use. Tests
read plans and never change them: copy a resource (``copy.deepcopy``) before mutating it.

The committed stack files do not record the upstream digests (nothing here can resolve them, see
infra/images.py), so each stack is planned with :data:`TEST_IMAGES`, syntactically valid digests
that exist only in the tests: the plans then hold every workload, as a stack file will once a person
has recorded the real digests. ``idf plan`` of the file itself leaves those workloads out, warned.
"""

from __future__ import annotations

import copy
import functools
import hashlib
from collections.abc import Iterator, Mapping

from idf_core.paths import STACKS_DIR
from idf_ops.plan.engine import OfflinePlan, run_offline
from infra.config import config_mapping_from_file
from infra.images import UPSTREAM_IMAGES
from support.stacks import STACKS

__all__ = ["TEST_IMAGES", "OfflinePlans", "offline_plan", "with_test_images"]


def _test_digest(what: str) -> str:
    return hashlib.sha256(f"idf test digest of {what}".encode()).hexdigest()


#: `idf:images` of the tests: a digest per upstream image and the Pulumi CLI tarball (tests only).
TEST_IMAGES: dict[str, str] = {
    **{key: f"{image}@sha256:{_test_digest(image)}" for key, image in UPSTREAM_IMAGES.items()},
    "pulumi_cli_sha256": _test_digest("pulumi-cli"),
}


def with_test_images(document: dict[str, object]) -> dict[str, object]:
    """A copy of a stack-file mapping whose `idf:images` records :data:`TEST_IMAGES` and whose
    catalogs are staged (`idf:qserv.ingest_staged`), as the file will say once a person has recorded
    the digests and staged the data: the plans then hold the ingest Job too."""
    out = copy.deepcopy(document)
    config = out.setdefault("config", {})
    assert isinstance(config, dict)
    config["idf:images"] = {**TEST_IMAGES, **(config.get("idf:images") or {})}
    qserv = config.get("idf:qserv")
    if isinstance(qserv, dict):
        qserv.setdefault("ingest_staged", True)
    return out


@functools.cache
def offline_plan(stack: str) -> OfflinePlan:
    """The offline plan of a declared stack, planned once per process."""
    if stack not in STACKS:
        raise KeyError(f"{stack!r} is not a stack of stacks/ (declared: {', '.join(STACKS)})")
    path = STACKS_DIR / f"Pulumi.{stack}.yaml"
    return run_offline(stack, with_test_images(config_mapping_from_file(path)), source=f"stacks/{path.name}")


class OfflinePlans(Mapping[str, OfflinePlan]):
    """Stack name -> its offline plan, for every declared stack; each planned when first read."""

    def __getitem__(self, stack: str) -> OfflinePlan:
        return offline_plan(stack)

    def __iter__(self) -> Iterator[str]:
        return iter(STACKS)

    def __len__(self) -> int:
        return len(STACKS)
