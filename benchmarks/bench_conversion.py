"""The last step of every CPU batch, uint8 -> normalized float32: one pass over the whole batch against
the same conversion chunk by chunk (``suite.datasets.batches.chunked_normalized_float``), at each
number of torch threads; ``to_normalized_float``, what ``iterate_batches`` calls, chunks only with one.

    python benchmarks/bench_conversion.py [--size 256] [--batch 16] [--threads 1 2] [--repeats 200]

Both ways convert the same uint8 batch (B, 3, size, size) with the same per-channel scale and shift
and give bit-identical tensors (checked). They alternate call by call, so a busy machine slows both
alike; each figure is the median call and the best call, in milliseconds per batch (lower is
better). The header prints the CPU and the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch

from suite.datasets.batches import _normalizer, chunked_normalized_float


def one_pass(x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """The conversion before chunking: convert, multiply, add, each over the whole float32 batch."""
    return x.float().mul_(scale).add_(shift)


def cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, os.cpu_count() or 1])
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    x = torch.randint(0, 256, (args.batch, 3, args.size, args.size), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    scale, shift = _normalizer((0.5, 0.4, 0.3), (0.25, 0.2, 0.15), 3, "cpu")
    assert torch.equal(one_pass(x, scale, shift), chunked_normalized_float(x, scale, shift)), "the two ways differ"
    ways = {"one pass (convert, multiply, add)": one_pass, "chunked": chunked_normalized_float}
    before = " ".join(f"{v:.2f}" for v in os.getloadavg())
    rows = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        times: dict[str, list[float]] = {name: [] for name in ways}
        for _ in range(args.repeats):
            for name, convert in ways.items():
                start = time.perf_counter()
                convert(x, scale, shift)
                times[name].append((time.perf_counter() - start) * 1e3)
        base = statistics.median(times[next(iter(ways))])
        rows += [(threads, name, statistics.median(v), min(v), statistics.median(v) / base) for name, v in times.items()]
    after = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"{cpu_name()}, {os.cpu_count()} cores, torch {torch.__version__}; batch {args.batch}x3x{args.size}x{args.size} "
          f"uint8 -> float32 ({x.numel() * 4 / 2**20:.1f} MiB); {args.repeats} calls per way, alternating; "
          f"load average {before} before, {after} after")  # fmt: skip
    print("\n| torch threads | conversion | median ms per batch | best ms | median ratio to one pass |")
    print("|---|---|---|---|---|")
    for threads, name, median, best, ratio in rows:
        print(f"| {threads} | {name} | {median:.2f} | {best:.2f} | {ratio:.2f}x |")


if __name__ == "__main__":
    main()
