"""The Ray executor on real local Ray clusters: ``suite run --executor ray`` (a cluster of its own) gives
the rows of the local executor; on one 2-CPU cluster shared by the other tests, a worker killed mid-run,
Ctrl-C in the driver, and the driver killed mid-grid (kill -9) then the same command run again."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from _executor_fixtures import REPO, TINY_ARGS, kill_driver_mid_grid_then_rerun, rows, tiny_request

from suite.executors import ExecutorOptions
from suite.runner import run_grid
from suite.store import read_runs

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.xdist_group("ray-cluster")  # one xdist worker starts the cluster and runs them all

ON_RAY = ExecutorOptions("ray", cpus_per_run=1)


@pytest.fixture(scope="module")
def cluster() -> str:
    """A local Ray cluster with 2 CPUs for this module; yields its address."""
    env = {"PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)}
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False, runtime_env={"env_vars": env})
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


def _ray_tasks_running() -> list[int]:
    """Pids of the Ray workers running a training task now (Ray titles them after the task)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes().startswith(b"ray::_train_on_ray"):
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


@pytest.mark.slow
def test_a_ray_worker_killed_mid_run_is_retried_and_the_store_ends_complete(cluster: str, tmp_path: Path) -> None:
    store, killed = tmp_path / "suite.db", []

    def kill_one_training_worker() -> None:
        deadline = time.monotonic() + 120
        while not killed and time.monotonic() < deadline:
            if pids := _ray_tasks_running():
                time.sleep(0.5)  # into its run
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_training_worker)
    killer.start()
    outcome = run_grid(tiny_request(epochs=3), str(store), ON_RAY)
    killer.join()
    assert killed, "no Ray worker was seen training"
    assert (outcome.trained, outcome.failed) == (6, 0)  # the killed task was retried, not failed
    runs = read_runs(store, status=None)
    assert len(runs) == 6 and runs["key"].is_unique and set(runs["status"]) == {"done"}


@pytest.mark.slow
def test_ctrl_c_cancels_the_tasks_in_flight_and_the_same_grid_resumes(cluster: str, tmp_path: Path) -> None:
    store = tmp_path / "suite.db"

    def interrupt(record) -> None:
        raise KeyboardInterrupt  # what Ctrl-C raises in the driver, here after the first stored run

    with pytest.raises(KeyboardInterrupt):
        run_grid(tiny_request(epochs=3), str(store), ON_RAY, on_record=interrupt)
    deadline = time.monotonic() + 30
    while _ray_tasks_running() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _ray_tasks_running()  # the tasks in flight were cancelled
    with sqlite3.connect(store) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
        assert db.execute("SELECT count(*) FROM claims").fetchone()[0] == 0  # released: nobody has to wait

    resumed = run_grid(tiny_request(epochs=3), str(store), ON_RAY)
    assert (resumed.trained, resumed.skipped) == (5, 1)
    assert len(read_runs(store, status=None)) == 6


@pytest.mark.slow
def test_suite_run_on_a_local_ray_cluster_of_its_own_gives_the_rows_of_the_local_executor(
    one_thread_reference: pd.DataFrame, tmp_path: Path
) -> None:
    store = tmp_path / "suite.db"
    args = ["run", "-v", "resnet18+se", *TINY_ARGS, "--executor", "ray", "--cpus-per-run", "1", "--store", str(store)]
    done = subprocess.run([sys.executable, "-m", "suite", *args], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "trained 6 runs (0 failed), reused 0" in " ".join(done.stdout.split())
    pd.testing.assert_frame_equal(rows(store), one_thread_reference)  # same keys, identical metrics at 1 thread


@pytest.mark.slow
def test_driver_on_ray_killed_mid_grid_resumes_without_lost_or_duplicated_rows(cluster: str, tmp_path: Path) -> None:
    store = tmp_path / "suite.db"
    kept, finished, _ = kill_driver_mid_grid_then_rerun(store, "--executor", "ray", "--address", cluster, "--cpus-per-run", "1")
    assert 0 < kept < 6, "kill the grid between its first and last run"
    assert finished.returncode == 0, finished.stderr
    assert f"reused {kept} from the store" in " ".join(finished.stdout.split())
    stored = rows(store)
    assert len(stored) == 6 and stored["key"].is_unique and set(stored["status"]) == {"done"}
    assert not _ray_tasks_running()  # the dead driver's tasks ended with it


def test_an_unreachable_cluster_is_one_line(tmp_path: Path) -> None:
    args = ["run", "-v", "resnet18+se", *TINY_ARGS, "--executor", "ray", "--address", "127.0.0.1:9", "--store", str(tmp_path / "s.db")]
    done = subprocess.run([sys.executable, "-m", "suite", *args], cwd=REPO, capture_output=True, text=True, timeout=300)
    lines = done.stderr.strip().splitlines()
    assert done.returncode != 0 and len(lines) == 1 and "cannot connect to the Ray cluster at 127.0.0.1:9" in lines[0]
