"""``suite compare`` and ``suite report`` against a real store: tables, JSON, report files, CI gates, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from _verdict_rows import CLS_DATASET, SEG_DATASET, effect_grid
from typer.testing import CliRunner

from suite.cli import app
from suite.errors import StoreError, SuiteError
from suite.records import RunRecord, Seeds
from suite.reports.json_document import SCHEMA_PATH
from suite.store import Store

REPO = Path(__file__).resolve().parents[1]


def write_runs(store: Path, values: dict[str, np.ndarray], dataset: str, metric: str, device: str = "cpu") -> None:
    """Store one done run per (spec, fold, seed) with ``val_<metric>`` from a fold x seed matrix."""
    with Store(store) as db:
        for spec, matrix in values.items():
            k, repeats = matrix.shape
            extra = spec.count("+")
            for fold in range(k):
                for seed in range(repeats):
                    db.write(
                        RunRecord(
                            key=f"{dataset}-{spec}-{fold}-{seed}",
                            spec=spec,
                            baseline=spec.split("+")[0],
                            dataset=dataset,
                            manifest_hash="m" * 64,
                            k=k,
                            fold=fold,
                            seeds=Seeds.from_repeat(0, seed),
                            recipe={"task": "seg" if metric == "dice" else "cls"},
                            recipe_hash="r" * 16,
                            status="done",
                            metrics={metric: float(matrix[fold, seed])},
                            n_train=4000,
                            n_val=1000,
                            params=1_000_000 + 20_000 * extra,
                            gmacs=1.5 + 0.05 * extra,
                            latency_ms=3.0 + 0.5 * extra,
                            wall_s=1.0,
                            device=device,
                            provenance={
                                "versions": {"suite": "0.1.0", "torch": "2.14.1"},
                                "git_commit": "feedbee",
                                "device_name": "Test CPU",
                            },
                            started_at="2025-02-01T10:00:00+00:00",
                            finished_at="2025-02-01T10:05:00+00:00",
                        )
                    )


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """digits: se holds, cbam is worse; isbi2012: se gives no practical gain."""
    path = tmp_path_factory.mktemp("store") / "suite.db"
    rng = np.random.default_rng(31)
    base, better = effect_grid(rng, 2.0)
    worse = base - 2.0 + rng.normal(0, 0.2, size=base.shape)
    write_runs(path, {"resnet18": base, "resnet18+se": better, "resnet18+cbam": worse}, CLS_DATASET, "accuracy")
    seg_base, seg_var = effect_grid(rng, 0.0005, base=0.8, noise=0.001, spread=0.02)
    write_runs(path, {"unet": seg_base, "unet+se": seg_var}, SEG_DATASET, "dice")
    return path


runner = CliRunner()


def invoke(*args: str, columns: int = 80):
    return runner.invoke(app, list(args), env={"COLUMNS": str(columns)}, catch_exceptions=True)


def test_compare_prints_one_row_per_variant_on_a_wide_terminal(store):
    result = invoke("compare", "--store", str(store), columns=200)
    assert result.exit_code == 0, result.output
    rows = {
        line.split()[1]: line for line in result.output.splitlines() if line.startswith("│ ") and "+" in line.split()[1]
    }
    assert (  # variants are named in their compact form (whole point groups by the group's name)
        "holds" in rows["resnet18+se@blocks"]
        and "worse" in rows["resnet18+cbam@blocks"]
        and "no practical gain" in rows["unet+se@decoder"]
    )
    assert "+20.0k (+2.0%)" in rows["resnet18+cbam@blocks"] and "ms" in rows["resnet18+cbam@blocks"]
    text = " ".join(result.output.split())
    for needed in (
        f"{CLS_DATASET} · accuracy",
        f"{SEG_DATASET} · dice",
        "percentage points",
        "Holm",
        "GMACs",
        "batch 1, on cpu",
    ):
        assert needed in text


def test_compare_fits_an_80_column_log(store):
    result = invoke("compare", "--store", str(store), columns=80)
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80
    assert "cost added over the baseline" in result.output and "+20.0k" in result.output and "(+2.0%)" in result.output
    assert "holds" in result.output and "worse" in result.output and "P(>δ)" in result.output


def test_compare_json_is_the_schema_document(store):
    result = invoke("compare", "--store", str(store), "--json", "--dataset", CLS_DATASET)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    jsonschema.validate(document, json.loads(SCHEMA_PATH.read_text()))
    verdicts = {c["variant"]: c["verdict"] for c in document["comparisons"]}
    assert verdicts["resnet18+cbam"] == "worse" and verdicts["resnet18+se"] in ("holds", "holds (>= delta)")
    cbam = next(c for c in document["comparisons"] if c["variant"] == "resnet18+cbam")
    assert cbam["params_added"] == 20_000 and cbam["params_added_pct"] == pytest.approx(2.0)
    assert document["provenance"]["git_commits"] == ["feedbee"]


def test_compare_options_reach_the_verdict(store):
    wide = json.loads(
        invoke("compare", "--store", str(store), "--json", "--dataset", SEG_DATASET, "--delta", "0.0001").stdout
    )
    assert wide["comparisons"][0]["delta"] == 0.0001 and wide["comparisons"][0]["verdict"] != "no practical gain"
    only_unet = json.loads(invoke("compare", "--store", str(store), "--json", "--baseline", "unet").stdout)
    assert [c["variant"] for c in only_unet["comparisons"]] == ["unet+se"]
    result = invoke("compare", "--store", str(store), "--metric", "iou")
    assert isinstance(result.exception, SuiteError) and "metrics in the store: accuracy, dice" in str(result.exception)


@pytest.mark.parametrize(
    "fmt, marker", [("md", "### digits"), ("json", '"schema_version"'), ("latex", r"\toprule"), ("html", "<svg")]
)
def test_report_writes_each_format_to_a_file(store, tmp_path, fmt, marker):
    out = tmp_path / "nested" / f"report.{fmt}"
    result = invoke("report", "--store", str(store), "--format", fmt, "--out", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert marker in text and "feedbee" in text
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # no temporary file left behind


@pytest.mark.parametrize(
    "gate, dataset, code",
    [
        ("worse", CLS_DATASET, 1),
        ("worse", SEG_DATASET, 0),
        ("not-holds", SEG_DATASET, 1),
        ("not-holds", CLS_DATASET, 1),
    ],
)
def test_report_gates_exit_codes(store, gate, dataset, code):
    result = invoke("report", "--store", str(store), "--dataset", dataset, "--fail-on", gate)
    assert result.exit_code == code, result.output
    assert "## suite verdicts" in result.stdout
    assert f"gate --fail-on {gate}: " + ("1 variant(s) failed" if code else "passed") in result.stderr


def test_report_without_gate_passes_and_rejects_unknown_format(store):
    assert invoke("report", "--store", str(store)).exit_code == 0
    result = invoke("report", "--store", str(store), "--format", "pdf")
    assert result.exit_code == 2 and "md" in result.output and "latex" in result.output


def test_empty_store_and_baselines_only_explain_how_to_make_runs(tmp_path):
    empty = invoke("compare", "--store", str(tmp_path / "none.db"))
    assert isinstance(empty.exception, StoreError) and "suite run --variant" in str(empty.exception)
    only_baseline = tmp_path / "base.db"
    write_runs(only_baseline, {"resnet18": np.full((3, 1), 90.0)}, CLS_DATASET, "accuracy")
    result = invoke("report", "--store", str(only_baseline))
    assert isinstance(result.exception, StoreError) and "only baselines (resnet18)" in str(result.exception)


def test_module_entry_point_prints_one_line_and_exits_1(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "SUITE_STORE": str(tmp_path / "missing.db")}
    done = subprocess.run(
        [sys.executable, "-m", "suite", "compare"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(f"error: no store at {tmp_path / 'missing.db'}")
    assert "(no such file, from $SUITE_STORE)" in done.stderr
    assert "suite demo" in done.stderr and "Traceback" not in done.stderr
