"""Wall time of quick-profile grids and what the store saves: a re-run and an added variant.

Run: ``python benchmarks/bench_grids.py [--data-root ../shared/data/isbi2012-membrane] [--demo]
[--each-baseline] [--skip-grids]`` from the repository root. Each step goes through ``suite.runner.run_grid`` (what ``suite run`` calls) on a
fresh store in a temporary folder:

1. ``unet+se`` on isbi2012-membrane, quick profile, 3 folds (the issue's done-when command);
2. the same grid again (expected: 0 runs trained);
3. ``unet+cbam`` added to it (expected: folds x seeds = 3 runs trained);
4. ``resnet18+se`` on digits, quick profile, 5 folds;
5. with ``--demo``: ``suite demo`` in a subprocess, end to end;
6. with ``--each-baseline``: one fold (of 5) of every other baseline's quick profile, on digits
   (classification) or the membrane set (segmentation).

Prints one markdown row per step: runs trained and reused, wall seconds, the mean validation metric of
each spec. On 2 CPU cores another busy process slows torch down 10-20x, so run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from suite.grid import GridRequest
from suite.device import device_name
from suite.runner import run_grid
from suite.store import read_runs

SHARED_MEMBRANE = Path(__file__).resolve().parents[2] / "shared" / "data" / "isbi2012-membrane"


def grid_row(label: str, request: GridRequest, store: Path) -> str:
    started = time.perf_counter()
    outcome = run_grid(request, str(store))
    seconds = time.perf_counter() - started
    runs = read_runs(str(store), dataset=outcome.grid.dataset)
    metric = "val_dice" if outcome.grid.task == "seg" else "val_accuracy"
    means = runs[runs["spec"].isin(outcome.grid.specs)].groupby("spec")[metric].mean()
    scores = "; ".join(f"{spec} {value:.4g}" for spec, value in means.items())
    return f"| {label} | {outcome.trained} | {outcome.skipped} | {seconds:.1f} | {metric.removeprefix('val_')}: {scores} |"


def demo_row(store: Path) -> str:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "suite.cli", "demo", "--store", str(store)], check=True, capture_output=True)
    seconds = time.perf_counter() - started
    runs = read_runs(str(store))
    return f"| `suite demo` (both grids, 5 folds) | {len(runs)} | 0 | {seconds:.1f} | see the demo's tables |"


def one_fold_row(baseline: str, membrane: dict) -> str:
    """One fold of ``baseline``'s quick profile: the run_one wall time and its validation metric."""
    from suite.baselines import BASELINES
    from suite.grid import plan
    from suite.train import run_one

    task = BASELINES.entry(baseline).meta["tasks"][0]
    where = {"dataset": "digits"} if task == "cls" else {k: membrane[k] for k in ("dataset", "data_root")}
    grid = plan(GridRequest([baseline], folds=5, profile="quick", **where))
    record = run_one(grid.jobs[0], grid.data)
    metric = "accuracy" if task == "cls" else "dice"
    recipe = record.recipe
    settings = f"{recipe['image_size']} px, {recipe['epochs']} epochs" + "".join(
        f", {k} {v}" for k, v in recipe.get("model", {}).items()
    )
    return f"| {baseline}, {grid.dataset}, one fold ({settings}) | 1 | 0 | {record.wall_s:.1f} | {metric} {record.metrics[metric]:.4g} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, default=SHARED_MEMBRANE, help="the isbi2012-membrane folder")
    parser.add_argument("--demo", action="store_true", help="also time `suite demo` end to end")
    parser.add_argument("--each-baseline", action="store_true", help="also one quick fold of every other baseline")
    parser.add_argument("--skip-grids", action="store_true", help="leave out steps 1-4")
    args = parser.parse_args()
    membrane = dict(dataset="isbi2012-membrane", data_root=str(args.data_root), folds=3, profile="quick")
    steps = [
        ("unet+se, isbi2012-membrane, 3 folds", GridRequest(["unet+se"], **membrane)),
        ("same command again", GridRequest(["unet+se"], **membrane)),
        ("unet+cbam added", GridRequest(["unet+se", "unet+cbam"], **membrane)),
        ("resnet18+se, digits, 5 folds", GridRequest(["resnet18+se"], dataset="digits", folds=5, profile="quick")),
    ]
    print(
        f"# {device_name(torch.device('cpu'))}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"Python {platform.python_version()}, float32, load average before: {os.getloadavg()[0]:.2f}"
    )
    print("| step | runs trained | runs reused | wall s | mean validation metric per spec |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "suite.db"
        for label, request in [] if args.skip_grids else steps:
            print(grid_row(label, request, store), flush=True)
        if args.demo:
            print(demo_row(Path(folder) / "demo.db"), flush=True)
        if args.each_baseline:
            from suite.baselines import BASELINES

            for baseline in BASELINES.list():
                if baseline not in ("unet", "resnet18"):
                    print(one_fold_row(baseline, membrane), flush=True)


if __name__ == "__main__":
    main()
