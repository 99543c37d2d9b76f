"""Executors on this machine: ``--jobs N`` against one process, a worker killed mid-run, a driver
killed mid-grid, and the executor options' one-line refusals."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from _executor_fixtures import REPO, TINY_ARGS, kill_driver_mid_grid_then_rerun, rows, tiny_request

from suite.errors import SuiteError
from suite.executors import ExecutorOptions, job_device, make_executor
from suite.runner import run_grid


def test_jobs_2_gives_the_rows_of_one_process(one_thread_reference: pd.DataFrame, tmp_path: Path) -> None:
    store = tmp_path / "suite.db"
    outcome = run_grid(tiny_request(), str(store), ExecutorOptions(jobs=2, cpus_per_run=1))
    assert (outcome.trained, outcome.skipped) == (6, 0)
    pd.testing.assert_frame_equal(rows(store), one_thread_reference)  # same keys, bit-identical metrics


@pytest.mark.slow
def test_a_pool_worker_killed_mid_run_is_retried_and_nothing_is_lost(tmp_path: Path) -> None:
    store, killed = tmp_path / "suite.db", []

    def kill_a_worker_once(job, info) -> None:
        if not killed and info.get("epoch") == 1:  # a run is in flight, one epoch of two done
            worker = multiprocessing.active_children()[0]
            os.kill(worker.pid, signal.SIGKILL)
            killed.append(worker.pid)

    outcome = run_grid(tiny_request(epochs=2), str(store), ExecutorOptions(jobs=2, cpus_per_run=1), on_progress=kill_a_worker_once)
    assert killed and (outcome.trained, outcome.failed) == (6, 0)
    stored = rows(store)
    assert len(stored) == 6 and stored["key"].is_unique and set(stored["status"]) == {"done"}


@pytest.mark.slow
def test_driver_killed_mid_grid_with_jobs_2_resumes_without_lost_or_duplicated_rows(tmp_path: Path) -> None:
    store = tmp_path / "suite.db"
    kept, finished, seconds = kill_driver_mid_grid_then_rerun(store, "--jobs", "2")
    assert 0 < kept < 6, "kill the grid between its first and last run"
    assert finished.returncode == 0, finished.stderr
    assert seconds < 150  # the dead driver's claims were taken at once, not after their lease
    stored = rows(store)
    assert len(stored) == 6 and stored["key"].is_unique and set(stored["status"]) == {"done"}
    assert f"reused {kept} from the store" in " ".join(finished.stdout.split())


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        (ExecutorOptions("nosuch"), "executors: local, ray, slurm"),
        (ExecutorOptions(jobs=0), "--jobs 1 or more"),
        (ExecutorOptions("ray", jobs=2), "--jobs is for the local executor"),
        (ExecutorOptions(cpus_per_run=0), "--cpus-per-run"),
        (ExecutorOptions(gpus_per_run=0.5), "--executor ray or slurm"),
        (ExecutorOptions("ray", gpus_per_run=-1), "share of GPUs"),
        (ExecutorOptions("ray", gpus_per_run=float("nan")), "share of GPUs"),
        (ExecutorOptions("ray", gpus_per_run=1.5), "whole GPUs"),
        (ExecutorOptions("slurm", gpus_per_run=0.5), "SLURM hands out whole GPUs"),
        (ExecutorOptions(address="auto"), "--executor ray"),
        (ExecutorOptions("ray", slurm={"slurm_partition": "gpu"}), "for --executor slurm"),
    ],
)
def test_executor_options_that_do_not_fit_are_refused_in_one_line(options: ExecutorOptions, needle: str) -> None:
    with pytest.raises(SuiteError) as err:
        options.check()
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_executor_defaults_follow_the_cores_and_the_device() -> None:
    from suite.executors._common import usable_cores
    from suite.executors.pool import PoolExecutor
    from suite.executors.ray_tasks import RayExecutor

    pool = make_executor(ExecutorOptions(jobs=2))
    assert isinstance(pool, PoolExecutor) and pool.threads == max(1, usable_cores() // 2)
    assert make_executor(ExecutorOptions(jobs=2, cpus_per_run=3)).threads == 3
    ray_cpu, ray_cuda = make_executor("ray", "cpu"), make_executor("ray", "cuda")
    assert isinstance(ray_cpu, RayExecutor) and (ray_cpu.cpus, ray_cpu.gpus, ray_cuda.gpus) == (1, 0.0, 1.0)
    assert make_executor(ExecutorOptions("ray", gpus_per_run=0.25), "cuda").gpus == 0.25
    slurm = make_executor(ExecutorOptions("slurm", cpus_per_run=4, gpus_per_run=2, slurm={"slurm_partition": "gpu"}), "cuda")
    assert slurm.parameters == {"slurm_partition": "gpu", "gpus_per_node": 2, "cpus_per_task": 4} and slurm.threads == 4
    # GPUs on Ray nodes: the runs train on CUDA though this driver may have none; --device cpu contradicts it.
    assert job_device("auto", ExecutorOptions("ray", gpus_per_run=0.5)) == "cuda"
    with pytest.raises(SuiteError, match="--device cpu"):
        job_device("cpu", ExecutorOptions("ray", gpus_per_run=1))


@pytest.mark.parametrize(
    "command",
    [
        ["run", "-v", "resnet18+se", *TINY_ARGS],
        ["sweep", "resnet18+se", *TINY_ARGS],
        ["ablate", "resnet18+se@blocks1+eca@blocks2", *TINY_ARGS],
        ["calibrate", "-b", "resnet18", "--dataset", "digits", "--device", "cpu"],
    ],
    ids=["run", "sweep", "ablate", "calibrate"],
)
def test_cli_refuses_a_bad_executor_option_before_touching_the_store(command: list[str], tmp_path: Path) -> None:
    store = tmp_path / "suite.db"
    result = subprocess.run(
        [sys.executable, "-m", "suite", *command, "--jobs", "2", "--executor", "ray", "--store", str(store)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0 and len(lines) == 1 and "--jobs is for the local executor" in lines[0]
    assert not store.exists()
