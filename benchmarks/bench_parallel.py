"""Wall time of whole grids at ``--jobs 1`` (one process, all cores' threads) against ``--jobs N`` (N
processes, one thread each), side by side in one run, and how far the metrics move between the two.

    python benchmarks/bench_parallel.py [--data-root ../shared/data/isbi2012-membrane] [--jobs 2] [--repeats 2] [--grids demo membrane]

Grids: ``demo`` is the two grids of ``variants/demo.yaml`` (resnet18+se on digits, unet+se on
shapes, 5 folds, quick profile); ``membrane`` is ``unet+se`` on the ISBI-2012 membrane set, 3 folds,
quick profile. Each grid is trained from scratch on a fresh store at ``--jobs 1`` with ``cores`` torch
threads and at ``--jobs N`` with ``cores / N`` threads, ``--repeats`` times each, in alternating
order (1 N, N 1, ...), through ``run_grid``, what ``suite run`` calls: the figures include planning,
the cost measurement and the worker start-up. Each setting's figure is its best (least disturbed)
repeat, as in timeit; every repeat is printed. The ratio is best(jobs 1) / best(jobs N): above 1,
the parallel grid finished sooner.

The two settings use different thread counts, so floating-point reductions run in another order:
the script prints the largest difference of the last-epoch validation metric between the two, per
grid, and of the grid's mean. The load average (``uptime``) is printed before and after each grid.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

from suite.executors import ExecutorOptions
from suite.executors._common import usable_cores
from suite.grid import GridRequest
from suite.runner import run_grid
from suite.store import read_runs
from suite.variant_sets import load

SHARED_DATA = Path(os.environ.get("SUITE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
METRIC = {"cls": "val_accuracy", "seg": "val_dice"}


def grids(names: list[str], data_root: Path) -> dict[str, list[GridRequest]]:
    chosen = {}
    if "demo" in names:
        chosen["demo (digits + shapes, 5 folds)"] = load("demo")
    if "membrane" in names:
        membrane = GridRequest(["unet+se"], dataset="isbi2012-membrane", data_root=str(data_root), folds=3)
        chosen["membrane (unet+se, 3 folds)"] = [membrane]
    return chosen


def load_average() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def timed_grids(requests: list[GridRequest], options: ExecutorOptions, folder: Path) -> tuple[float, pd.DataFrame]:
    """Seconds to train every grid of ``requests`` on a fresh store, and the stored runs."""
    store = folder / f"jobs{options.jobs}.db"
    start = time.perf_counter()
    for request in requests:
        run_grid(request, str(store), options)
    return time.perf_counter() - start, read_runs(store, status=None)


def metric_shifts(serial: pd.DataFrame, parallel: pd.DataFrame) -> list[str]:
    """Per dataset: its metric, the largest per-run difference and the largest difference of a spec's
    mean between the two stores (same keys in both)."""
    assert sorted(serial["key"]) == sorted(parallel["key"]), "the two settings stored different runs"
    shifts = []
    for dataset, runs in serial.groupby("dataset"):
        name = next(m for m in METRIC.values() if m in runs.columns and runs[m].notna().all())
        both = runs[["key", "spec", name]].merge(parallel[["key", name]], on="key", suffixes=("", "_n"))
        per_run = (both[name] - both[f"{name}_n"]).abs().max()
        means = both.groupby("spec")[[name, f"{name}_n"]].mean()
        per_mean = (means[name] - means[f"{name}_n"]).abs().max()
        shifts.append(f"{dataset} {name.removeprefix('val_')}: run {per_run:.4g}, mean {per_mean:.4g}")
    return shifts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, default=SHARED_DATA / "isbi2012-membrane")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--grids", nargs="+", default=["demo", "membrane"], choices=["demo", "membrane"])
    args = parser.parse_args()
    cores = usable_cores()
    serial = ExecutorOptions(jobs=1, cpus_per_run=cores)
    parallel = ExecutorOptions(jobs=args.jobs, cpus_per_run=max(1, cores // args.jobs))
    print(f"{cores} cores; --jobs 1 with {serial.cpus_per_run} threads against --jobs {args.jobs} with {parallel.cpus_per_run} thread(s) each")
    rows = []
    for label, requests in grids(args.grids, args.data_root).items():
        times: dict[int, list[float]] = {1: [], args.jobs: []}
        stored: dict[int, pd.DataFrame] = {}
        before = load_average()
        for repeat in range(args.repeats):
            for options in (serial, parallel) if repeat % 2 == 0 else (parallel, serial):
                with tempfile.TemporaryDirectory() as folder:
                    seconds, runs = timed_grids(requests, options, Path(folder))
                times[options.jobs].append(seconds)
                stored.setdefault(options.jobs, runs)
                print(f"{label}: --jobs {options.jobs} {seconds:.1f} s (load {load_average()})", flush=True)
        after = load_average()
        shifts = "; ".join(metric_shifts(stored[1], stored[args.jobs]))
        one, many = min(times[1]), min(times[args.jobs])
        rows.append((label, len(stored[1]), times[1], times[args.jobs], one / many, shifts, before, after))
    print(f"\n| grid | runs | --jobs 1 wall s (repeats) | --jobs {args.jobs} wall s (repeats) | ratio of bests | largest metric shift (run; spec mean) | load avg before -> after |")
    print("|---|---|---|---|---|---|---|")
    for label, runs, ones, manys, ratio, shifts, before, after in rows:
        listed = [", ".join(f"{t:.1f}" for t in values) for values in (ones, manys)]
        print(f"| {label} | {runs} | {min(ones):.1f} ({listed[0]}) | {min(manys):.1f} ({listed[1]}) | {ratio:.2f}x | {shifts} | {before} -> {after} |")


if __name__ == "__main__":
    main()
