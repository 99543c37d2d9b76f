"""Harness overhead: ``run_one`` against a bare PyTorch loop on the same network, data, batches and seeds.

Run: ``python benchmarks/bench_overhead.py [--epochs 3] [--repeats 5] [--threads 0]`` from the repository
root. Both sides train a U-Net (width 8) on the synthetic ``shapes`` set at 64 px, fold 0 of 5 (192
training and 48 validation images), batch 16, AdamW with warm-up + cosine per step, Dice + BCE, no
augmentation, and evaluate the validation fold after every epoch (loss, per-image Dice and IoU). The
bare loop is what one would write by hand: normalized float tensors made once, ``randperm`` batches,
the loss and metrics inline, nothing recorded. The two alternate ``--repeats`` times after one warm-up
each (ABBA order); the medians of the wall (and process CPU) times are compared, and the per-epoch losses and Dice of the two must agree.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import torch
import torch.nn.functional as F

from suite.baselines import BASELINES
from suite.datasets import LoadedDataset, load_dataset, make_manifest
from suite.datasets.batches import seeded_generator
from suite.datasets.loaded import normalized
from suite.device import device_name
from suite.recipe import Recipe, load_recipe
from suite.records import Job, Seeds
from suite.train import run_one

SEED = 0


def bare_loop(data: LoadedDataset, train_idx: torch.Tensor, val_idx: torch.Tensor, recipe: Recipe) -> list[float]:
    """Train and evaluate by hand; returns (train loss, val loss, val Dice) of every epoch, flattened."""
    torch.manual_seed(SEED)
    model = BASELINES.get("unet")("seg", 1, data.in_channels, recipe.image_size, **recipe.model)
    data = normalized(data, recipe.normalization, train_idx)  # as run_one does: the fold's training images
    mean, std = torch.tensor(data.mean).view(1, -1, 1, 1), torch.tensor(data.std).view(1, -1, 1, 1)
    x_all = data.images.float().mul_(1.0 / (255.0 * std)).add_(-mean / std)
    y_all = data.targets.unsqueeze(1).float()
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    optimizer = torch.optim.AdamW(
        [{"params": no_decay, "weight_decay": 0.0}, {"params": decay, "weight_decay": recipe.weight_decay}],
        lr=recipe.lr,
    )
    steps = -(-len(train_idx) // recipe.batch_size)
    total, warmup = recipe.epochs * steps, round(recipe.warmup_epochs * steps)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1.0 + math.cos(math.pi * min((step - warmup) / max(total - warmup, 1), 1.0)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)

    def dice_bce(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        bce = F.binary_cross_entropy_with_logits(logits, target)
        probs = torch.sigmoid(logits)
        dice = (2 * (probs * target).sum((1, 2, 3)) + 1) / (probs.sum((1, 2, 3)) + target.sum((1, 2, 3)) + 1)
        return bce + (1 - dice).mean()

    results = []
    for epoch in range(1, recipe.epochs + 1):
        model.train()
        order = train_idx[torch.randperm(len(train_idx), generator=seeded_generator(SEED, epoch, 0))]
        total_loss = torch.zeros((), dtype=torch.float64)
        for start in range(0, len(order), recipe.batch_size):
            chosen = order[start : start + recipe.batch_size]
            loss = dice_bce(model(x_all[chosen]), y_all[chosen])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            total_loss += loss.detach().double() * len(chosen)
        model.eval()
        val_loss, dice_sum = 0.0, 0.0
        with torch.inference_mode():
            for start in range(0, len(val_idx), recipe.eval_batch_size):
                chosen = val_idx[start : start + recipe.eval_batch_size]
                logits, target = model(x_all[chosen]), y_all[chosen]
                val_loss += dice_bce(logits, target).item() * len(chosen)
                pred = logits > 0
                inter = (pred & (target > 0)).sum((1, 2, 3))
                total_px = pred.sum((1, 2, 3)) + (target > 0).sum((1, 2, 3))
                dice_sum += torch.where(total_px == 0, 1.0, 2 * inter / total_px.clamp_min(1)).sum().item()
        results += [float(total_loss) / len(train_idx), val_loss / len(val_idx), dice_sum / len(val_idx)]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each side, alternating")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    overrides = {"epochs": args.epochs, "batch_size": 16, "image_size": 64, "model.width": 8, "augment": False}
    recipe = load_recipe("unet", "seg", "quick", overrides)
    data = load_dataset("shapes", image_size=recipe.image_size)
    manifest = make_manifest(data, 5, SEED)
    train_idx, val_idx = manifest.split(0, data.ids)
    seeds = Seeds(SEED, SEED, SEED, SEED)
    job = Job("unet", data.name, None, 5, 0, seeds, manifest.sha256, recipe.to_dict(), recipe.hash)

    def harness() -> list[float]:
        curves = run_one(job, data).curves
        columns = zip(curves["train_loss"], curves["val_loss"], curves["val_dice"])
        return [value for row in columns for value in row]

    times: dict[str, list[float]] = {"run_one": [], "bare": []}
    cpu_times: dict[str, list[float]] = {"run_one": [], "bare": []}
    results: dict[str, list[float]] = {}
    sides = {"run_one": harness, "bare": lambda: bare_loop(data, train_idx, val_idx, recipe)}
    for repeat in range(args.repeats + 1):
        order = list(sides) if repeat % 2 else list(sides)[::-1]  # ABBA order: drift hits both sides alike
        for name in order:
            start, cpu_start = time.perf_counter(), time.process_time()
            results[name] = sides[name]()
            if repeat:  # the first round warms caches up and is not counted
                times[name].append(time.perf_counter() - start)
                cpu_times[name].append(time.process_time() - cpu_start)
    medians = {name: statistics.median(values) for name, values in times.items()}
    difference = max(abs(a - b) for a, b in zip(results["run_one"], results["bare"]))
    print(f"device: cpu, {device_name('cpu')}; unet width 8, shapes 64 px, 192 train / 48 val images, "
          f"batch 16, {args.epochs} epochs, float32; median of {args.repeats} alternating runs after one warm-up")
    for name in sides:
        runs = ", ".join(f"{t:.2f}" for t in times[name])
        cpu = statistics.median(cpu_times[name])
        print(f"{name:>8}: median {medians[name]:.2f} s wall, {cpu:.2f} s CPU  (wall of each run: {runs})")
    paired = statistics.median(a / b for a, b in zip(times["run_one"], times["bare"]))
    cpu_ratio = statistics.median(cpu_times["run_one"]) / statistics.median(cpu_times["bare"])
    print(f"   ratio: wall {medians['run_one'] / medians['bare']:.3f} of medians, {paired:.3f} median of paired runs; "
          f"CPU {cpu_ratio:.3f} of medians  (run_one / bare)")
    print(f"  agree: max |run_one - bare| over per-epoch train loss, val loss, val Dice = {difference:.2e}")


if __name__ == "__main__":
    main()
