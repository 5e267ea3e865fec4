"""Fixtures of the ingest suites: a small seed patch and a few generated chunks, made once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from idf_ops.catalogs.generate import generate
from idf_ops.scale.generate import Seed, generate_chunks, scale_chunks

#: Objects of the seed patch (over the DC2 footprint, ~300 deg²) and objects per generated chunk.
SEED_OBJECTS = 3000
OBJECTS_PER_CHUNK = 400


@pytest.fixture(scope="session")
def seed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The five dp01 tables, synthetic (idf_ops.catalogs.generate), as the dataload role writes them."""
    directory = tmp_path_factory.mktemp("seed")
    generate(directory, SEED_OBJECTS, seed=7)
    return directory


@pytest.fixture(scope="session")
def seed(seed_dir: Path) -> Seed:
    return Seed.from_directory(seed_dir)


@pytest.fixture(scope="session")
def two_adjacent_chunks() -> list[int]:
    """Two chunks side by side in one stripe of the 75 % layout, and one in the next stripe."""
    layout = scale_chunks(75)
    middle = layout[len(layout) // 2]
    assert middle + 1 in layout
    north = next(c for c in layout if c // 170 == middle // 170 + 1)
    return [middle, middle + 1, north]


@pytest.fixture(scope="session")
def generated(seed: Seed, two_adjacent_chunks: list[int], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three generated chunks in a directory."""
    out = tmp_path_factory.mktemp("generated")
    generate_chunks(seed, two_adjacent_chunks, OBJECTS_PER_CHUNK, str(out))
    return out
