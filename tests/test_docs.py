"""The outputs quoted in README.md and BENCHMARKS.md are what the code prints today (scripts/docs_check.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import docs_check  # noqa: E402

DEMO_STORE = ROOT / "results" / "suite.db"  # filled by `make demo`, which CI runs before the tests


def test_every_generated_block_has_a_generator():
    for name in docs_check.DOCUMENTS:
        for match in docs_check.BLOCK.finditer((ROOT / name).read_text(encoding="utf-8")):
            assert match["name"] in docs_check.GENERATORS, f"{name}: unknown block {match['name']}"


def test_quoted_inspect_output_is_current():
    assert docs_check.check(write=False, store=DEMO_STORE, only={"inspect-unet-se"}) == []


def test_quoted_check_of_the_broken_plugin_is_current():
    assert docs_check.check(write=False, store=DEMO_STORE, only={"check-square-only"}) == []


def test_rounding_tolerance_allows_last_digit_jitter_only():
    assert docs_check.same_within_rounding("| 0.9441 | holds |", "| 0.9439 | holds |")
    assert not docs_check.same_within_rounding("| 0.9449 | holds |", "| 0.9439 | holds |")
    assert not docs_check.same_within_rounding("| 0.9439 | worse |", "| 0.9439 | holds |")


def test_quoted_demo_verdicts_are_what_the_demo_store_says():
    """Exact on this project's machine; within rounding of the last digit elsewhere (another CPU's floats)."""
    try:
        drifted = docs_check.check(write=False, store=DEMO_STORE, only={"demo-verdicts"}, tolerant=True)
    except docs_check.MissingInput as err:
        pytest.skip(str(err))
    assert drifted == [], "run `python scripts/docs_check.py --write` after `make demo` and commit the result"
