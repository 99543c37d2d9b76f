"""``suite data list | fetch | verify | folds`` through the CLI (CliRunner, and a subprocess for exit codes)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _data_fixtures import write_kvasir
from typer.testing import CliRunner

from suite.cli import app
from suite.datasets import DATASETS
from suite.errors import DataError, SuiteError

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def test_list_shows_every_dataset_and_marks_synthetic():
    result = runner.invoke(app, ["data", "list"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for name in DATASETS.list():
        assert name in result.output
    lines = {line.split("│")[1].strip(): line for line in result.output.splitlines() if line.count("│") > 3}
    assert "shapes (SYNTHETIC)" in lines and "always (generated)" in lines["shapes (SYNTHETIC)"]
    assert "always (bundled)" in lines["digits"]


def test_list_shows_where_and_whether_present(tmp_path: Path):
    write_kvasir(tmp_path / "kvasir-seg", count=2)
    result = runner.invoke(app, ["data", "list"], env={"COLUMNS": "250", "SUITE_DATA": str(tmp_path)})
    lines = {line.split("│")[1].strip(): line for line in result.output.splitlines() if line.count("│") > 3}
    assert str(tmp_path / "kvasir-seg") in lines["kvasir-seg"] and lines["kvasir-seg"].rstrip(" │").endswith("yes")
    assert str(tmp_path / "drive") in lines["drive"] and lines["drive"].rstrip(" │").endswith("no")


@pytest.mark.parametrize(
    "name, folder, count", [("drive", "DRIVE", 40), ("isbi2012-membrane", "isbi2012-membrane", 30)]
)
def test_verify_passes_on_the_shared_data(shared_data: Path, name: str, folder: str, count: int):
    result = runner.invoke(app, ["data", "verify", name, "--root", str(shared_data / folder)])
    assert result.exit_code == 0, result.output
    assert f"ok: {count} samples of {name} verified" in result.output


def test_verify_cvc_copy_passes_and_notes_the_three_missing_frames(shared_data: Path):
    result = runner.invoke(app, ["data", "verify", "cvc-clinicdb", "--root", str(shared_data / "CVC-ClinicDB-256")])
    assert result.exit_code == 0, result.output
    assert "ok: 609 samples of cvc-clinicdb verified" in result.output
    assert "609 samples, the publisher's release has 612" in result.output and "groups: train 29" in result.output


def test_verify_lists_every_problem(tmp_path: Path):
    root = write_kvasir(tmp_path / "kvasir", count=5)
    (root / "Kvasir-SEG" / "images" / "cju0000abc.jpg").unlink()
    (root / "Kvasir-SEG" / "masks" / "cju0001abc.jpg").unlink()
    (root / "Kvasir-SEG" / "images" / "cju0002abc.jpg").write_bytes(b"garbage")
    result = runner.invoke(app, ["data", "verify", "kvasir-seg", "--root", str(root)])
    assert result.exit_code == DataError.exit_code
    assert "3 problem(s)" in result.output
    for needle in ("cju0000abc.jpg has no image", "cju0001abc.jpg has no mask", "cju0002abc.jpg (cannot identify"):
        assert needle in result.output.replace("\n", " ")


def test_folds_json(shared_data: Path, tmp_path: Path):
    folds = ["data", "folds", "isbi2012-membrane", "--k", "3", "--seed", "2", "--root", str(shared_data / "isbi2012-membrane")]
    result = runner.invoke(app, [*folds, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["k"] == 3 and [f["n_val"] for f in payload["folds"]] == [10, 10, 10]
    assert all(f["n_train"] == 20 for f in payload["folds"])
    assert hashlib.sha256(Path(payload["path"]).read_bytes()).hexdigest() == payload["sha256"]
    table = runner.invoke(app, folds)
    assert payload["sha256"] in table.output and payload["path"] in table.output.replace("\n", "")


def _suite(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "suite", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_errors_exit_nonzero_with_one_line(tmp_path: Path):
    empty = tmp_path / "empty"
    empty.mkdir()
    done = _suite("data", "folds", "kvasir-seg", "--root", str(empty))
    assert done.returncode == DataError.exit_code
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no Kvasir-SEG at") and "Traceback" not in done.stderr


def test_fetch_of_a_manual_set_and_unknown_names_are_user_errors(tmp_path: Path):
    fetch = runner.invoke(app, ["data", "fetch", "drive", "--root", str(tmp_path)])
    assert isinstance(fetch.exception, DataError) and "no direct download" in str(fetch.exception)
    unknown = runner.invoke(app, ["data", "verify", "nosuchset"])
    assert isinstance(unknown.exception, SuiteError) and "valid datasets: busi, cifar10" in str(unknown.exception)


def test_fetch_of_bundled_or_generated_sets_has_nothing_to_do():
    result = runner.invoke(app, ["data", "fetch", "shapes"])
    assert result.exit_code == 0 and "shapes (SYNTHETIC): nothing to fetch" in result.output


def test_verify_of_an_array_set_reports_class_counts():
    result = runner.invoke(app, ["data", "verify", "digits"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "ok: 1797 samples of digits verified" in result.output and "0 178, 1 182" in result.output
