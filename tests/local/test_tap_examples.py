"""The DALI examples document of the local TAP (/tap/examples): our DP0.1 queries, each one run.

The examples come from the `tap` role (tap_examples, rendered into DaCHS' userconfig.rd); the test
reads the served document (its RDFa ``property="query"`` blocks) and runs every query through the
balancer: QUERY_STATUS OK and rows. Needs `idf local up` (marker ``local_stack``).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
import pyvo
import requests
import yaml

from idf_ops.local.settings import TAP_URL

pytestmark = pytest.mark.local_stack

DEFAULTS = Path(__file__).resolve().parents[2] / "ansible/roles/tap/defaults/main.yml"
EXAMPLES = yaml.safe_load(DEFAULTS.read_text())["tap_examples"]
_QUERY_BLOCK = re.compile(r'<pre[^>]*property="query"[^>]*>(.*?)</pre>', re.DOTALL)


def served_queries() -> list[str]:
    response = requests.get(f"{TAP_URL}/examples", timeout=30)
    assert response.status_code == 200, f"/tap/examples: HTTP {response.status_code}"
    return [" ".join(html.unescape(block).split()) for block in _QUERY_BLOCK.findall(response.text)]


def test_the_document_serves_every_example_of_the_role() -> None:
    expected = [" ".join(example["query"].split()) for example in EXAMPLES]
    assert served_queries() == expected
    assert {e["name"] for e in EXAMPLES} >= {
        "cone-search",
        "object-by-id",
        "photometry-join",
        "truth-match",
        "histogram",
    }


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["name"] for e in EXAMPLES])
def test_example_query_returns_rows(example: dict[str, str]) -> None:
    query = " ".join(example["query"].split())
    assert query in served_queries(), f"{example['name']} is not in /tap/examples"
    result = pyvo.dal.TAPService(TAP_URL).run_sync(query)
    assert len(result) > 0, f"{example['name']}: no rows"
