"""What the boundary metrics add to a run's last evaluation: milliseconds per image for Dice/IoU alone
and for HD95, NSD and clDice (``suite.train.metrics.SegmentationScores``) at several mask sizes.

Masks are a few random discs per image (prediction and reference drawn independently), so both boundaries
are long and curved, as a real segmentation's are. Each figure is the best of ``--repeats`` timings of
one batch. Usage: ``PYTHONPATH=. python benchmarks/bench_boundary_metrics.py [--sizes 64 256 512]``.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch

from suite.train.metrics import SegmentationScores
from suite.train.surface_metrics import SurfaceScoring


def masks(rng: np.random.Generator, batch: int, size: int) -> torch.Tensor:
    rows, columns = np.mgrid[:size, :size]
    out = np.zeros((batch, 1, size, size), bool)
    for image in out:
        for _ in range(rng.integers(2, 5)):
            centre, radius = rng.uniform(0.2, 0.8, 2) * size, rng.uniform(0.05, 0.2) * size
            image[0] |= (rows - centre[0]) ** 2 + (columns - centre[1]) ** 2 <= radius**2
    return torch.from_numpy(out)


def best_ms_per_image(scoring: SurfaceScoring | None, logits: torch.Tensor, target: torch.Tensor, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        scores = SegmentationScores(scoring)
        start = time.perf_counter()
        scores.update(logits, target)
        scores.compute()
        times.append(time.perf_counter() - start)
    return 1000 * min(times) / len(logits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 256, 512])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"# {platform.processor() or platform.machine()}, torch {torch.__version__} with {torch.get_num_threads()} threads")
    print("| mask size | Dice + IoU | + HD95, NSD | + HD95, NSD, HD95 mm, clDice |")
    print("|---|---|---|---|")
    for size in args.sizes:
        logits = torch.where(masks(rng, args.batch, size), 8.0, -8.0)
        target = masks(rng, args.batch, size).long()
        cells = [
            best_ms_per_image(scoring, logits, target, args.repeats)
            for scoring in (None, SurfaceScoring(1.0), SurfaceScoring(1.0, spacing_mm=(0.5, 0.5), tubular=True))
        ]
        print(f"| {size} px | " + " | ".join(f"{ms:.2f} ms/image" for ms in cells) + " |")


if __name__ == "__main__":
    main()
