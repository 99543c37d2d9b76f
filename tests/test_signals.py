"""Ctrl-C (SIGINT) and SIGTERM stop ``suite run`` with one line and exit code 130 / 143 during the cost
measurement, during training and during a store write; the store passes SQLite's integrity check and
holds exactly the runs the line counts. Real subprocesses on a tiny digits grid (tests/_interrupt.py);
that the same command then resumes is tested after kill -9 at the same moments (test_run.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from _interrupt import KEPT_AT, MOMENTS, SIGNALS, RunningGrid, can_see_waits, integrity, stored_runs

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("moment", MOMENTS)
@pytest.mark.parametrize("name", SIGNALS)
def test_a_signal_stops_the_grid_with_one_line_and_a_sound_store(name: str, moment: str, tmp_path: Path) -> None:
    if moment == "store write" and not can_see_waits():
        pytest.skip("needs /proc/PID/task/TID/wchan to see the process wait for the store's lock")
    signum, code = SIGNALS[name]
    store = tmp_path / "suite.db"
    grid = RunningGrid(store)
    grid.stop_at(moment, signum)
    returned, out, err = grid.finish()
    kept = stored_runs(store)
    runs = "run" if kept == 1 else "runs"
    assert returned == code, err
    assert err.strip().splitlines() == [f"interrupted; {kept} {runs} kept, run the same command to resume"]
    assert "Traceback" not in out + err
    assert integrity(store) == "ok"
    assert kept in KEPT_AT[moment], "stopped at another moment"

