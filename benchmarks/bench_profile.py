"""How long cost profiling takes, per baseline: the GMACs trace and the latency measurement.

Run: ``python benchmarks/bench_profile.py [--device auto] [--runs 10] [--size 0]`` from the repository root.
``--size 0`` builds each baseline at its default size (cls 224 px, seg 256 px); any other value uses it
for every baseline. Prints one row per baseline: GMACs at batch 1, seconds spent tracing, the measured
batch-1 latency (ms) and the seconds the latency measurement itself took.
"""

from __future__ import annotations

import argparse
import time

from suite.baselines import BASELINES
from suite.build import build_variant
from suite.build import DEFAULT_IMAGE_SIZE, DEFAULT_NUM_CLASSES
from suite.cost import count_gmacs, measure_latency
from suite.device import device_name, resolve_device


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="cpu, cuda or auto")
    parser.add_argument("--runs", type=int, default=10, help="timed passes per latency measurement")
    parser.add_argument("--size", type=int, default=0, help="image size in px (0: per-task default)")
    args = parser.parse_args()
    device = resolve_device(args.device)
    print(f"device: {device} ({device_name(device)}); batch 1, float32; {args.runs} timed passes")
    print(f"{'baseline':<10} {'px':>4} {'GMACs':>8} {'trace s':>8} {'latency ms':>11} {'timing s':>9}")
    for entry in BASELINES.entries():
        task = entry.meta["tasks"][0]
        size = args.size or DEFAULT_IMAGE_SIZE[task]
        model = build_variant(entry.name, task, DEFAULT_NUM_CLASSES[task], 3, size).model
        shape = (1, 3, size, size)
        start = time.perf_counter()
        gmacs = count_gmacs(model, shape).gmacs
        traced = time.perf_counter() - start
        start = time.perf_counter()
        latency = measure_latency(model, shape, device, runs=args.runs)
        timed = time.perf_counter() - start
        print(f"{entry.name:<10} {size:>4} {gmacs:>8.3f} {traced:>8.2f} {latency.median_ms:>11.2f} {timed:>9.2f}")


if __name__ == "__main__":
    main()
