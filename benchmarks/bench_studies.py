"""Wall time of one study of each kind, each command as a user types it, on a fresh store.

Run: ``python benchmarks/bench_studies.py [--out FOLDER]`` from the repository root. Each command runs
``python -m suite ...`` in a subprocess with its own new store in ``FOLDER`` (default: a temporary folder),
so nothing is reused between them; its output is kept next to the store (``NAME.out``). Prints one
markdown row per command: the command, the runs trained, the wall seconds from start to exit, and the
1-minute load average before and after (other processes share a small machine; say so next to the figure).

1. ``suite run --variant resnet18+se --dataset digits --train-fraction 0.25,1 --folds 3`` (12 runs);
2. ``suite ablate unet+se@encoder+cbam@decoder --dataset shapes --folds 3`` (12 runs);
3. ``suite sweep unet+se --points enc1,enc3,enc5,dec1,dec3 --modes after,residual --dataset shapes --folds 3``
   (33 runs).

Settings: the quick profiles, with the U-Net on shapes trimmed as ``suite demo`` trims it (32 px, width 8,
8 epochs: the quick profile is sized for 64 px membrane images); ``--full-recipe`` drops the trim.

Threads: the child processes inherit ``OMP_NUM_THREADS`` (on a busy 2-core machine, 1 thread trains
these small networks fastest).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from suite.store import read_runs

COMMANDS = {
    "fractions": "run --variant resnet18+se --dataset digits --train-fraction 0.25,1 --folds 3",
    "ablate": "ablate unet+se@encoder+cbam@decoder --dataset shapes --folds 3",
    "sweep": "sweep unet+se --points enc1,enc3,enc5,dec1,dec3 --modes after,residual --dataset shapes --folds 3",
}
SHAPES_TRIM = "--image-size 32 --epochs 8 --set model.width=8"  # as variants/demo.yaml trims the U-Net on shapes


def load() -> str:
    return f"{os.getloadavg()[0]:.2f}"


def row(name: str, command: str, folder: Path, trim: bool) -> str:
    store = folder / f"{name}.db"
    before = load()
    if trim and "shapes" in command:
        command = f"{command} {SHAPES_TRIM}"
    started = time.perf_counter()
    with (folder / f"{name}.out").open("w") as out:
        subprocess.run(
            [sys.executable, "-m", "suite", *command.split(" "), "--store", str(store)],
            check=True, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "COLUMNS": "100", "NO_COLOR": "1"},
        )  # fmt: skip
    seconds = time.perf_counter() - started
    runs = len(read_runs(str(store), status=None))
    return f"| `suite {command}` | {runs} | {seconds:.0f} | {before} / {load()} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="Folder for the stores and outputs (default: temporary).")
    parser.add_argument("--only", choices=list(COMMANDS), action="append", help="Run only these commands.")
    parser.add_argument("--full-recipe", action="store_true", help="The U-Net's quick profile on shapes, untrimmed.")
    args = parser.parse_args()
    folder = args.out or Path(tempfile.mkdtemp(prefix="bench-studies-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"date {time.strftime('%Y-%m-%d')}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
          f"{os.cpu_count()} CPUs, outputs in {folder}")  # fmt: skip
    print("| command | runs trained | wall s | load average (1 min) before / after |")
    print("|---|---|---|---|")
    for name, command in COMMANDS.items():
        if not args.only or name in args.only:
            print(row(name, command, folder, trim=not args.full_recipe), flush=True)


if __name__ == "__main__":
    main()
