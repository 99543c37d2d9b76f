"""The SLURM executor through submitit's local executor (no SLURM here): a tiny grid as one job array,
the rows of the local executor, and its settings file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from _executor_fixtures import TINY_ARGS, rows, tiny_request

from suite.errors import SuiteError
from suite.executors import ExecutorOptions
from suite.executors.slurm import load_slurm_config
from suite.runner import run_grid

pytest.importorskip("submitit")

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_submitit_local_array_gives_the_rows_of_the_local_executor(one_thread_reference: pd.DataFrame, tmp_path: Path) -> None:
    store, folder = tmp_path / "suite.db", tmp_path / "slurm"
    options = ExecutorOptions("slurm", cpus_per_run=1, slurm={"cluster": "local", "folder": str(folder), "timeout_min": 20})
    outcome = run_grid(tiny_request("resnet18"), str(store), options)  # the baseline's 3 folds: 3 array tasks
    assert (outcome.trained, outcome.failed) == (3, 0)
    reference = one_thread_reference[one_thread_reference["spec"] == "resnet18"].reset_index(drop=True)
    pd.testing.assert_frame_equal(rows(store), reference)
    assert len([d for d in folder.iterdir() if d.is_dir() and d.name.isdigit()]) == 3  # one task folder per run (logs)
    assert not list(folder.glob("grid-data-*.pt"))  # the data file shared by the array is removed afterwards


def test_slurm_settings_file_is_read_and_bad_ones_are_one_line(tmp_path: Path) -> None:
    good = tmp_path / "slurm.yaml"
    good.write_text("slurm_partition: gpu\ntimeout_min: 90\nslurm_additional_parameters: {qos: high}\n")
    assert load_slurm_config(good) == {"slurm_partition": "gpu", "timeout_min": 90, "slurm_additional_parameters": {"qos": "high"}}
    for name, text, needle in [
        ("list.yaml", "- gpu\n", "mapping of submitit parameters"),
        ("broken.yaml", "slurm_partition: [gpu\n", "cannot read the SLURM config"),
    ]:
        (tmp_path / name).write_text(text)
        with pytest.raises(SuiteError, match=needle):
            load_slurm_config(tmp_path / name)
    with pytest.raises(SuiteError, match="cannot read the SLURM config"):
        load_slurm_config(tmp_path / "missing.yaml")


def test_slurm_options_override_the_file_and_are_refused_for_other_executors(tmp_path: Path) -> None:
    from suite.commands._grid_options import executor_options

    config = tmp_path / "slurm.yaml"
    config.write_text("slurm_partition: cpu\ntimeout_min: 30\nmem_gb: 8\n")
    options = executor_options("slurm", slurm_config=str(config), slurm_partition="gpu", slurm_time=240)
    assert options.slurm == {"slurm_partition": "gpu", "timeout_min": 240, "mem_gb": 8}
    args = ["run", "-v", "resnet18+se", *TINY_ARGS, "--slurm-config", str(config), "--store", str(tmp_path / "s.db")]
    done = subprocess.run([sys.executable, "-m", "suite", *args], cwd=REPO, capture_output=True, text=True, timeout=300)
    lines = done.stderr.strip().splitlines()
    assert done.returncode != 0 and len(lines) == 1 and "are for --executor slurm" in lines[0]
    assert not (tmp_path / "s.db").exists()
