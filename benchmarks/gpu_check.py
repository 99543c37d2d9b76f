"""GPU check: run the CUDA paths CI never runs, measure throughput, and write everything as JSON.

    python benchmarks/gpu_check.py [--out gpu_check.json]

One short script (a few minutes on one GPU). Each step is a named check, ``ok`` or ``failed`` with
the reason, and the figures it measured:

- ``gpu_resident_data``: a dataset moved to the GPU stays uint8 there; batches come out on the GPU
  as float32 without a trip through the host;
- ``unet_w64_256px``: U-Net width 64 at 256 px (the ``full`` recipe: bf16 autocast, channels_last,
  AdamW, Dice + BCE) training throughput in images/s at batch 8 and 32, with peak GPU memory;
  checks that autocast computes in bfloat16 while the weights stay float32, and that the weights and
  inputs are channels_last;
- ``torch_compile``: the same U-Net under ``torch.compile``: compile time, the compiled output
  against eager, and throughput;
- ``resnet18_cifar_epoch``: one training epoch of the ``full`` resnet18 CIFAR recipe (batch 128,
  SGD, bf16, channels_last) over 50,000 SYNTHETIC images of CIFAR-10's shape (3 x 32 x 32, random
  pixels and labels: no dataset can be downloaded where this runs), in seconds and images/s;
- ``grid_sharing_the_gpu``: the same small grid (unet+se on the synthetic shapes set, 3 folds) with
  ``--jobs 1``, with ``--jobs 4`` (4 processes on the one GPU) and on a local Ray cluster with
  ``--gpus-per-run 0.25`` (4 runs per GPU: fractional GPUs under Ray), wall time of each and the
  most runs seen in flight at once.

On a machine without a CUDA GPU it prints one line saying so and exits with status 2.
``--cpu-dry-run`` runs every step at toy sizes on the CPU instead (Ray without GPUs): a check of the
script itself, with figures that mean nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

import torch

from suite.build import build_variant
from suite.datasets import LoadedDataset
from suite.datasets.loaded import channel_stats
from suite.executors import ExecutorOptions
from suite.executors._common import usable_cores
from suite.grid import GridRequest
from suite.recipe import load_recipe
from suite.runner import run_grid
from suite.train import make_loss, make_optimizer, train_one_epoch

TOY = {"unet_size": 64, "unet_width": 8, "unet_batches": [2], "steps": 2, "cifar_images": 512, "grid_epochs": 1}
REAL = {"unet_size": 256, "unet_width": 64, "unet_batches": [8, 32], "steps": 20, "cifar_images": 50_000, "grid_epochs": 5}


def synthetic(task: str, count: int, size: int, classes: int, device: torch.device) -> LoadedDataset:
    """Random uint8 images (and labels or masks), SYNTHETIC, on ``device``."""
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (count, 3, size, size), dtype=torch.uint8, generator=generator)
    if task == "cls":
        targets = torch.randint(0, classes, (count,), generator=generator)
    else:
        targets = (torch.rand(count, size, size, generator=generator) < 0.3).to(torch.uint8)
    mean, std = channel_stats(images)
    data = LoadedDataset(f"synthetic-{task}", task, [str(c) for c in range(classes)], 3, images, targets,
                         [str(i) for i in range(count)], mean=mean, std=std)  # fmt: skip
    return data.to(device)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def train_steps(model, recipe, data: LoadedDataset, batch: int, steps: int, device, memory_format) -> float:
    """Seconds for ``steps`` optimizer steps at ``batch`` (after two warm-up steps), synchronized."""
    optimizer = make_optimizer(model, recipe)
    loss_fn = make_loss(recipe.loss)
    amp = torch.bfloat16 if recipe.amp else None
    indices = torch.arange(len(data)).repeat(-(-batch * (steps + 2) // len(data)))[: batch * (steps + 2)]

    def run(part: torch.Tensor) -> None:
        batches = data.batches(part, batch, shuffle=False, seed=0, epoch=0, augment=False)
        train_one_epoch(model, optimizer, None, loss_fn, batches, device, amp, memory_format=memory_format)

    run(indices[: 2 * batch])
    sync(device)
    start = time.perf_counter()
    run(indices[2 * batch :])
    sync(device)
    return time.perf_counter() - start


def check_gpu_resident_data(device, sizes) -> dict:
    before = torch.cuda.memory_allocated(device) if device.type == "cuda" else 0
    data = synthetic("seg", 64, sizes["unet_size"], 1, device)
    held = (torch.cuda.memory_allocated(device) if device.type == "cuda" else 0) - before
    x, y = next(iter(data.batches(torch.arange(8), 8, shuffle=True, seed=0, epoch=1, augment=True)))
    assert data.images.device.type == device.type and data.images.dtype == torch.uint8, "images left the device or uint8"
    assert x.device.type == device.type and x.dtype == torch.float32 and y.device.type == device.type
    return {"uint8_bytes_on_device": held, "expected_bytes": data.images.numel() + data.targets.numel(), "batch_device": str(x.device)}


def check_unet(device, sizes) -> dict:
    recipe = load_recipe("unet", "seg", "full", {"model.width": sizes["unet_width"], "image_size": sizes["unet_size"]})
    memory_format = torch.channels_last if device.type == "cuda" else torch.contiguous_format
    data = synthetic("seg", 64, recipe.image_size, 1, device)
    model = build_variant("unet", "seg", 1, 3, recipe.image_size, **recipe.model).model.to(device, memory_format=memory_format)
    x, _ = next(iter(data.batches(torch.arange(2), 2, shuffle=False, seed=0, epoch=0, augment=False)))
    with torch.autocast(device.type, dtype=torch.bfloat16):
        out = model(x.to(memory_format=memory_format))
    first_conv = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    assert out.dtype == torch.bfloat16, f"autocast output is {out.dtype}, not bfloat16"
    assert all(p.dtype == torch.float32 for p in model.parameters()), "weights are not float32 under autocast"
    if device.type == "cuda":
        assert first_conv.weight.is_contiguous(memory_format=torch.channels_last), "weights are not channels_last"
    figures = {"recipe": {"amp": recipe.amp, "channels_last": recipe.channels_last, "width": recipe.model["width"]}}
    for batch in sizes["unet_batches"]:
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        seconds = train_steps(model, recipe, data, batch, sizes["steps"], device, memory_format)
        figures[f"batch_{batch}"] = {
            "images_per_s": round(batch * sizes["steps"] / seconds, 1),
            "peak_memory_gib": round(torch.cuda.max_memory_allocated(device) / 2**30, 3) if device.type == "cuda" else None,
        }
    return figures


def check_compile(device, sizes) -> dict:
    recipe = load_recipe("unet", "seg", "full", {"model.width": sizes["unet_width"], "image_size": sizes["unet_size"]})
    memory_format = torch.channels_last if device.type == "cuda" else torch.contiguous_format
    data = synthetic("seg", 64, recipe.image_size, 1, device)
    model = build_variant("unet", "seg", 1, 3, recipe.image_size, **recipe.model).model.to(device, memory_format=memory_format)
    compiled = torch.compile(model)
    x, _ = next(iter(data.batches(torch.arange(2), 2, shuffle=False, seed=0, epoch=0, augment=False)))
    model.eval()
    start = time.perf_counter()
    with torch.no_grad():
        eager, fast = model(x), compiled(x)
    sync(device)
    compile_s = time.perf_counter() - start
    difference = (eager - fast).abs().max().item()
    assert difference < 1e-2 * max(1.0, eager.abs().max().item()), f"compiled output differs by {difference}"
    model.train()
    batch = sizes["unet_batches"][0]
    seconds = train_steps(compiled, recipe, data, batch, sizes["steps"], device, memory_format)
    return {"first_call_s": round(compile_s, 1), "max_abs_difference_eval": difference,
            f"batch_{batch}_images_per_s": round(batch * sizes["steps"] / seconds, 1)}  # fmt: skip


def check_cifar_epoch(device, sizes) -> dict:
    recipe = load_recipe("resnet18", "cls", "full")
    memory_format = torch.channels_last if device.type == "cuda" else torch.contiguous_format
    data = synthetic("cls", sizes["cifar_images"], 32, 10, device)
    model = build_variant("resnet18", "cls", 10, 3, 32, **recipe.model).model.to(device, memory_format=memory_format)
    optimizer, loss_fn = make_optimizer(model, recipe), make_loss(recipe.loss)
    amp = torch.bfloat16 if recipe.amp and device.type == "cuda" else None
    batches = data.batches(torch.arange(len(data)), recipe.batch_size, shuffle=True, seed=0, epoch=1, augment=True)
    sync(device)
    start = time.perf_counter()
    train_one_epoch(model, optimizer, None, loss_fn, batches, device, amp, memory_format=memory_format)
    sync(device)
    seconds = time.perf_counter() - start
    return {"data": f"SYNTHETIC: {len(data)} random images of CIFAR-10's shape (3x32x32), random labels",
            "batch_size": recipe.batch_size, "width": recipe.model["width"], "epoch_s": round(seconds, 2),
            "images_per_s": round(len(data) / seconds, 1)}  # fmt: skip


def most_in_flight(runs: list[tuple[float, float]]) -> int:
    events = sorted([(start, 1) for start, _ in runs] + [(end, -1) for _, end in runs])
    best = current = 0
    for _, step in events:
        current += step
        best = max(best, current)
    return best


def check_grid_sharing(device, sizes) -> dict:
    cuda = device.type == "cuda"
    request = GridRequest(["unet+se"], dataset="shapes", folds=3, device=str(device), overrides={
        "image_size": 64, "model.width": 16, "epochs": sizes["grid_epochs"], "batch_size": 16, "amp": cuda, "channels_last": cuda,
    })  # fmt: skip
    quarter = max(1, usable_cores() // 4)
    settings = {
        "jobs_1": ExecutorOptions(jobs=1),
        "jobs_4": ExecutorOptions(jobs=4, cpus_per_run=quarter),
        "ray_gpus_per_run_0.25": ExecutorOptions("ray", cpus_per_run=quarter, gpus_per_run=0.25 if cuda else None),
    }
    figures = {}
    for name, options in settings.items():
        spans: list[tuple[float, float]] = []
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            outcome = run_grid(request, str(Path(folder) / "suite.db"), options,
                               on_record=lambda r: spans.append((time.perf_counter() - r.wall_s, time.perf_counter())))  # fmt: skip
            seconds = time.perf_counter() - start
        assert outcome.failed == 0, f"{name}: {outcome.failed} runs failed"
        figures[name] = {"wall_s": round(seconds, 1), "runs": outcome.trained, "most_in_flight": most_in_flight(spans)}
    figures["ratio_jobs_1_over_ray_quarter"] = round(figures["jobs_1"]["wall_s"] / figures["ray_gpus_per_run_0.25"]["wall_s"], 2)
    figures["ratio_jobs_1_over_jobs_4"] = round(figures["jobs_1"]["wall_s"] / figures["jobs_4"]["wall_s"], 2)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("gpu_check.json"))
    parser.add_argument("--cpu-dry-run", action="store_true", help="toy sizes on the CPU: checks the script, not the GPU")
    args = parser.parse_args()
    if not torch.cuda.is_available() and not args.cpu_dry_run:
        print(f"gpu_check.py needs a CUDA GPU and torch {torch.__version__} sees none here; run it on a machine with one")
        return 2
    device = torch.device("cuda" if torch.cuda.is_available() and not args.cpu_dry_run else "cpu")
    sizes = TOY if args.cpu_dry_run else REAL
    report = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU dry run ({platform.processor() or platform.machine()})",
        "torch": torch.__version__, "cuda": torch.version.cuda, "python": platform.python_version(),
        "dry_run": args.cpu_dry_run, "checks": {},
    }  # fmt: skip
    steps = {
        "gpu_resident_data": check_gpu_resident_data,
        "unet_w64_256px": check_unet,
        "torch_compile": check_compile,
        "resnet18_cifar_epoch": check_cifar_epoch,
        "grid_sharing_the_gpu": check_grid_sharing,
    }
    started = time.perf_counter()
    for name, step in steps.items():
        begin = time.perf_counter()
        try:
            result = {"status": "ok", **step(device, sizes)}
        except Exception as err:  # noqa: BLE001 (every step reports, the next one runs)
            result = {"status": "failed", "error": f"{type(err).__name__}: {err}", "trace": traceback.format_exc(limit=4)}
        result["seconds"] = round(time.perf_counter() - begin, 1)
        report["checks"][name] = result
        print(f"{name}: {result['status']} in {result['seconds']} s  {json.dumps({k: v for k, v in result.items() if k not in ('status', 'seconds', 'trace')})}", flush=True)
    report["total_s"] = round(time.perf_counter() - started, 1)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"wrote {args.out} ({report['total_s']} s)")
    return 0 if all(c["status"] == "ok" for c in report["checks"].values()) else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
