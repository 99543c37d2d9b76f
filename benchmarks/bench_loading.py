"""Loading and batching speed on CVC-ClinicDB-256 (609 JPEG pairs): cold decode vs warm cache, batches vs tensors.

    python benchmarks/bench_loading.py [--data ../shared/data/CVC-ClinicDB-256] [--sizes 64 256] [--repeats 5]

Rows: wall-clock time, best of ``--repeats`` runs (epochs: best of ``2 * repeats + 1`` runs taken
round-robin). The best run is the one least disturbed by other work on the machine (timeit's rule);
the header prints the load average so that a busy machine shows.

- cold load: decode every file (cache file deleted, nothing remembered in the process);
- fingerprint: hashing the content of the 1,218 files (the first load on a machine), the same with the
  stat-keyed hash memo file (a later process), and a stat-only fingerprint (names + sizes + mtimes);
- warm load, new process: fingerprint with the memo file + reading the cache file (in-process memos
  cleared, as in a new process);
- warm load, same process: the memory cache (stat calls only);
- one epoch (shuffled, batch 16): indexing float32 tensors normalized beforehand (4x the memory of
  uint8) against ``iterate_batches`` on the cached uint8 tensors, without and with augmentation.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import tempfile
import time
from pathlib import Path

import torch

import suite.datasets._fingerprint as file_hashes
import suite.datasets.cache as cache_module
from suite.datasets import iterate_batches, load_dataset, scan_dataset
from suite.datasets.batches import seeded_generator
from suite.datasets.loaded import normalized

SHARED_DATA = Path(os.environ.get("SUITE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
BATCH = 16


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def best_time(action, repeats: int, setup=lambda: None) -> float:
    times = []
    for _ in range(repeats):
        setup()
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def race(actions: dict[str, object], repeats: int) -> dict[str, float]:
    """Best seconds of each action, run round-robin so that a noisy moment hits them all alike."""
    times: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(repeats):
        for name, action in actions.items():
            start = time.perf_counter()
            action()
            times[name].append(time.perf_counter() - start)
    return {name: min(values) for name, values in times.items()}


def forget() -> None:
    """Drop every in-process memo, as a new process would start (memo files on disk stay)."""
    cache_module._MEMORY.clear()
    file_hashes.forget()


def stat_fingerprint(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(files):
        stat = path.stat()
        digest.update(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def epoch_batches(data, augment: bool) -> None:
    for _batch in iterate_batches(
        data.images,
        data.targets,
        torch.arange(len(data)),
        BATCH,
        shuffle=True,
        seed=0,
        epoch=0,
        augment=augment,
        mean=data.mean,
        std=data.std,
    ):
        pass


def epoch_prebuilt(images: torch.Tensor, masks: torch.Tensor) -> None:
    order = torch.randperm(len(images), generator=seeded_generator(0, 0, 0))
    for start in range(0, len(order), BATCH):
        chosen = order[start : start + BATCH]
        images[chosen], masks[chosen]


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms"


def _versus(seconds: float, base: float, batches: int) -> str:
    return f"{seconds / base:.2f}x ({(seconds - base) / batches * 1e6:+.0f} us per batch)"


def run(data_root: Path, sizes: list[int], repeats: int) -> list[tuple[str, str, str]]:
    """(measurement, time, ratio) rows."""
    rows = []
    _, scan = scan_dataset("cvc-clinicdb", data_root, download=False)
    with tempfile.TemporaryDirectory() as folder:
        memo = Path(folder) / "file-hashes.json"
        hashing = best_time(lambda: file_hashes.fingerprint(scan), repeats, forget)
        file_hashes.fingerprint(scan, memo)
        remembered = best_time(lambda: file_hashes.fingerprint(scan, memo), repeats, forget)
    stat_only = best_time(lambda: stat_fingerprint(scan.files), repeats)
    rows.append((f"fingerprint, SHA-256 of the content of {len(scan.files)} files", _ms(hashing), ""))
    rows.append(("fingerprint, new process with the stat-keyed hash memo", _ms(remembered), ""))
    rows.append(("fingerprint, names + sizes + mtimes only (not used)", _ms(stat_only), ""))
    for size in sizes:
        with tempfile.TemporaryDirectory() as cache:
            os.environ["SUITE_CACHE"] = cache

            def load() -> None:
                load_dataset("cvc-clinicdb", data_root, size)  # noqa: B023 (called within this iteration)

            def cold_setup() -> None:
                forget()
                for path in Path(cache).rglob("*.pt"):  # noqa: B023
                    path.unlink()

            cold = best_time(load, repeats, cold_setup)
            warm_new = best_time(load, repeats, forget)
            warm_memory = best_time(load, repeats)
            data = load_dataset("cvc-clinicdb", data_root, size)
        data = normalized(data, "fold", torch.arange(len(data)))  # statistics of the images iterated
        mean = torch.tensor(data.mean).view(1, -1, 1, 1)
        std = torch.tensor(data.std).view(1, -1, 1, 1)
        prebuilt_x, prebuilt_y = (data.images.float() / 255 - mean) / std, data.targets.float().unsqueeze(1)
        epochs = race(
            {
                "prebuilt": lambda: epoch_prebuilt(prebuilt_x, prebuilt_y),  # noqa: B023
                "plain": lambda: epoch_batches(data, False),  # noqa: B023
                "augmented": lambda: epoch_batches(data, True),  # noqa: B023
            },
            2 * repeats + 1,
        )
        base = epochs["prebuilt"]
        batches = -(-len(data) // BATCH)
        rows += [
            (f"{size} px: cold load (decode 609 pairs)", f"{cold:.3f} s", "1x"),
            (f"{size} px: warm load, new process (memo + cache file)", _ms(warm_new), f"{cold / warm_new:.0f}x faster"),
            (f"{size} px: warm load, same process (memory)", _ms(warm_memory), f"{cold / warm_memory:.0f}x faster"),
            (f"{size} px: epoch over pre-built float32 tensors (batch {BATCH})", _ms(base), "1x"),
            (
                f"{size} px: epoch of iterate_batches, no augmentation",
                _ms(epochs["plain"]),
                _versus(epochs["plain"], base, batches),
            ),
            (
                f"{size} px: epoch of iterate_batches, augmented",
                _ms(epochs["augmented"]),
                _versus(epochs["augmented"], base, batches),
            ),
        ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "CVC-ClinicDB-256")
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rows = run(args.data, args.sizes, args.repeats)
    print(
        f"CVC-ClinicDB-256 at {args.data}; CPU: {cpu_name()}, {os.cpu_count()} cores, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads); best of {args.repeats} runs; load average {os.getloadavg()[0]:.1f}\n"
    )
    width = max(len(r[0]) for r in rows)
    print(f"| {'measurement'.ljust(width)} | time | ratio |")
    print(f"|{'-' * (width + 2)}|------|-------|")
    for name, value, ratio in rows:
        print(f"| {name.ljust(width)} | {value} | {ratio} |")


if __name__ == "__main__":
    main()
