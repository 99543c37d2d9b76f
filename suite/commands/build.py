"""``suite list`` and ``suite inspect``: what can be built, and what a variant costs as built.

``suite list baselines|modules|points BASELINE`` prints the registries as tables;
``suite inspect SPEC`` builds one variant and prints its canonical spec, where each module went with
its resolved hyperparameters, params, GMACs and latency (``--json``: one JSON object for machines).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from enum import Enum

import typer
from rich.console import Console

from suite.errors import SuiteError

INSPECT_HELP = "\n\n".join(
    [
        "Build SPEC and show its canonical form, where each module went, params, GMACs and latency.",
        "Defaults: the baseline's first task; 224 px and 1000 classes for cls, 256 px and 1 class for seg; "
        "3 input channels. GMACs are counted at batch 1 (1 fused multiply-add = 1 MAC); the element-wise ops they "
        "leave out (the multiplies and sigmoids of attention gates) are counted apart, in millions.",
        "--json prints one object with the keys: spec (canonical), task, image_size, in_channels, num_classes, "
        "baseline_kwargs (the baseline's build arguments: --width under the spec's own, e.g. unet(width=18)), "
        "input_shape [N, C, H, W], placements (list of module, kind, point, mode, channels, in_channels, stride, "
        "layout, hparams, params, tree: a composite's members, fusion and params, else null), params, baseline_params, params_added, params_added_pct, "
        "gmacs, baseline_gmacs, gmacs_added, unsupported (uncounted op -> calls), elementwise_mops, "
        "baseline_elementwise_mops, elementwise_mops_added (millions of element-wise ops, one per output element "
        "of each pointwise op and softmax; not in gmacs), latency and throughput "
        "(median_ms, iqr_ms, batch_size, device, device_name, dtype, runs, peak_mem_mib, images_per_s; "
        "null when not measured), peak_mem_mib (CUDA MiB; null on CPU).",
    ]
)


class Listing(str, Enum):
    baselines = "baselines"
    modules = "modules"
    points = "points"
    sets = "sets"


def register(app: typer.Typer) -> None:
    app.command("list")(list_command)
    app.command("inspect", help=INSPECT_HELP)(inspect_command)


def list_command(
    what: Listing = typer.Argument(..., help="baselines, modules, sets (variant sets for --grid), or points (then name a BASELINE)."),
    baseline: str = typer.Argument(None, help="For points: the baseline whose insertion points to show."),
    pattern: str = typer.Option("*", "--pattern", "-p", help="Only names matching this glob, e.g. 'res*' or 'dec*'."),
) -> None:
    """List registered baselines, modules, the variant sets of variants/, or the insertion points of one baseline."""
    from suite.build import DEFAULT_IMAGE_SIZE, DEFAULT_NUM_CLASSES, default_task
    from suite.commands import _build_tables

    console = Console()
    if baseline and what is not Listing.points:
        raise SuiteError(
            f"suite list {what.value} takes no BASELINE; for a baseline's points: suite list points {baseline}"
        )
    if what is Listing.modules:
        console.print(_build_tables.modules_table(pattern))
    elif what is Listing.baselines:
        console.print(_build_tables.baselines_table(pattern))
    elif what is Listing.sets:
        console.print(_build_tables.sets_table(pattern))
    else:
        if not baseline:
            from suite.baselines import BASELINES

            raise SuiteError(f"name a baseline: suite list points BASELINE; baselines: {', '.join(BASELINES.list())}")
        task = default_task(baseline)
        table = _build_tables.points_table(
            baseline, task, DEFAULT_NUM_CLASSES[task], DEFAULT_IMAGE_SIZE[task], pattern
        )
        console.print(table)


def inspect_command(
    spec: str = typer.Argument(..., help="Variant spec, e.g. unet+se@decoder or resnet50+se(rd_ratio=0.25)@blocks."),
    task: str = typer.Option(None, "--task", help="cls or seg (default: the baseline's first task)."),
    image_size: int = typer.Option(None, "--image-size", help="Input height = width, px (default: cls 224, seg 256)."),
    in_channels: int = typer.Option(3, "--in-channels", help="Input image channels."),
    num_classes: int = typer.Option(None, "--num-classes", help="Output classes (default: cls 1000, seg 1)."),
    width: int = typer.Option(None, "--width", help="Base width, for baselines that have one (unet)."),
    device: str = typer.Option("auto", "--device", help="cpu, cuda or auto (CUDA when available)."),
    no_latency: bool = typer.Option(False, "--no-latency", help="Skip the latency and throughput measurement."),
    runs: int = typer.Option(30, "--runs", min=1, help="Timed forward passes per latency measurement (after warm-up)."),
    throughput_batch: int = typer.Option(
        None, "--throughput-batch", min=0,
        help="Batch size of the throughput measurement (default: cpu 8, cuda 64; 0 skips it).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (keys above) instead of tables."),
    control: str = typer.Option(None, "--control", help="capacity: also find the baseline widened to this variant's size (what suite run --control capacity trains)."),
    match: str = typer.Option("params", "--match", help="What the capacity control matches: params or gmacs."),
) -> None:
    from suite.build import DEFAULT_IMAGE_SIZE, DEFAULT_NUM_CLASSES, baseline_spec, build_variant, default_task
    from suite.cost import measure_cost
    from suite.device import resolve_device

    baseline = baseline_spec(spec)
    task = (task or default_task(baseline)).lower()
    if task not in DEFAULT_IMAGE_SIZE:
        raise SuiteError(f"unknown task {task!r}; tasks: {', '.join(DEFAULT_IMAGE_SIZE)}")
    image_size = image_size or DEFAULT_IMAGE_SIZE[task]
    num_classes = num_classes or DEFAULT_NUM_CLASSES[task]
    baseline_kwargs = {} if width is None else {"width": width}
    target = resolve_device(device)
    build_args = (task, num_classes, in_channels, image_size)
    _check_fits(spec, build_args, baseline_kwargs, target, 1 if no_latency else throughput_batch)
    built = build_variant(spec, *build_args, **baseline_kwargs)
    plain = None if built.spec.is_baseline else build_variant(baseline, *build_args, **baseline_kwargs).model
    input_shape = (1, in_channels, image_size, image_size)
    cost = measure_cost(
        built, input_shape, target, latency=not no_latency, throughput_batch=throughput_batch, baseline=plain, runs=runs
    )
    report = {
        "spec": built.key,
        "task": task,
        "image_size": image_size,
        "in_channels": in_channels,
        "num_classes": num_classes,
        "baseline_kwargs": built.baseline_kwargs,
        "placements": [asdict(placement) for placement in built.placements],
        **cost.to_dict(),
    }
    if control is not None:
        report["capacity_control"] = _capacity_control(control, match, built, build_args, baseline_kwargs)
    if as_json:
        typer.echo(json.dumps(report, default=str))
    else:
        from suite.commands import _build_tables

        _build_tables.print_inspection(Console(), report)


def _capacity_control(control: str, match: str, built, build_args: tuple, baseline_kwargs: dict) -> dict:
    from suite.capacity import match_capacity

    if control != "capacity":
        raise SuiteError(f"unknown --control {control!r}; the control suite builds is: capacity")
    if built.spec.is_baseline or not built.spec.insertions:
        raise SuiteError(f"{built.key} has no module, so it needs no capacity control; inspect a variant such as unet+se")
    found = match_capacity(built.key, *build_args, model_kwargs=baseline_kwargs, measure=match)
    return {**found.to_dict(), "gap": found.gap, "summary": found.describe()}


def _check_fits(spec: str, build_args: tuple, baseline_kwargs: dict, device, batch: int | None) -> None:
    """Build ``spec`` on the meta device and refuse, with the estimate, what the device cannot hold."""
    import torch

    from suite.build import build_variant
    from suite.cost import DEFAULT_THROUGHPUT_BATCH
    from suite.memory import check_fits, inference_need

    _, _, in_channels, image_size = build_args
    batch = max(1, DEFAULT_THROUGHPUT_BATCH[device.type] if batch is None else batch)
    with torch.device("meta"):
        model = build_variant(spec, *build_args, **baseline_kwargs).model
    need = inference_need(model, (batch, in_channels, image_size, image_size))
    doing = f"to measure at {image_size} px, batch {batch}"
    check_fits(spec, need, str(device), doing, "--image-size or --throughput-batch")

