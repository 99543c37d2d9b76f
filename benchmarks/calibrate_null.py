"""How often noise passes as a gain on real runs: ``suite calibrate`` on digits and shapes (quick profile).

Run: ``python benchmarks/calibrate_null.py [--split-seeds 20] [--folds 5] [--jobs 2] [--store PATH]``
from the repository root (``--jobs``: runs at once, each with cores / jobs torch threads). Trains, per
dataset and split seed, the baseline twice (A/A) and ``+identity`` once (placebo), 5 folds each, then
prints each arm's rate of false "holds" and of any claim with Clopper-Pearson 95% intervals, the wall
time, and the machine. Runs already in the store are reused, so an interrupted measurement resumes.
The grids are those of ``variants/demo.yaml`` (digits at the quick profile; shapes at 32 px, width 8,
8 epochs).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GRIDS = {  # dataset -> (baseline, recipe overrides), as variants/demo.yaml trains them
    "digits": ("resnet18", []),
    "shapes": ("unet", ["--image-size", "32", "--epochs", "8", "--set", "model.width=8"]),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split-seeds", type=int, default=20)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--store", default=str(ROOT / "results" / "calibration.db"))
    parser.add_argument("--datasets", nargs="+", default=list(GRIDS), choices=list(GRIDS))
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "120"}
    for dataset in args.datasets:
        baseline, overrides = GRIDS[dataset]
        started = time.perf_counter()
        command = [sys.executable, "-m", "suite", "calibrate", "--baseline", baseline, "--dataset", dataset,
                   "--split-seeds", str(args.split_seeds), "--folds", str(args.folds), "--device", "cpu",
                   "--jobs", str(args.jobs), "--store", args.store, *overrides]  # fmt: skip
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"{dataset}: suite calibrate failed: {done.stderr.strip().splitlines()[-1]}")
        table = [line for line in done.stdout.splitlines() if "│" in line or "Calibration" in line or "┃" in line]
        print("\n".join(table))
        print(f"{dataset}: {time.perf_counter() - started:.0f} s wall (runs already stored are reused)\n")
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()}; {args.jobs} run(s) at once, "
          f"{max(1, (os.cpu_count() or 1) // args.jobs)} torch thread(s) each")  # fmt: skip


if __name__ == "__main__":
    main()
