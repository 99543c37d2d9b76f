"""Rich tables for ``suite list`` and ``suite inspect``; every number carries its unit or its setting."""

from __future__ import annotations

import fnmatch

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from suite._arguments import show_value
from suite.baselines import BASELINES, baseline_defaults
from suite.kinds import KINDS
from suite.modules import MODULES, module_defaults
from suite.plugins import origin_label


def _format_kwargs(kwargs: dict, separator: str = ", ") -> str:
    return separator.join(f"{k}={_short(v)}" for k, v in kwargs.items()) or "-"


def _short(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _paper(meta: dict) -> str:
    paper = meta.get("paper") or "-"
    return f"{paper} (arXiv:{meta['arxiv']})" if meta.get("arxiv") else paper


def _add_columns(table: Table, fixed: tuple[str, ...], wrapped: tuple[str, ...]) -> None:
    """Short identifier columns never wrap; free-text columns wrap at word boundaries."""
    for column in fixed:
        table.add_column(column, no_wrap=True)
    for column in wrapped:
        table.add_column(column, overflow="fold")


def modules_table(pattern: str) -> Table:
    entries = MODULES.entries(pattern)
    counts = {kind: sum(e.meta["kind"] == kind for e in entries) for kind in KINDS}
    per_kind = ", ".join(f"{count} {kind}" for kind, count in counts.items() if count)
    table = Table(title=f"Modules ({len(entries)} of {len(MODULES)} matching {pattern!r}: {per_kind})")
    _add_columns(table, ("module", "kind", "modes", "arXiv", "origin"), ("paper", "default arguments"))
    for entry in entries:
        kind = entry.meta["kind"]
        paper = entry.meta.get("paper") or "-"
        if not entry.meta.get("arxiv") and entry.meta.get("reference"):
            paper += f" ({entry.meta['reference']})"
        table.add_row(
            entry.name,
            kind,
            " | ".join(KINDS[kind].modes),
            entry.meta.get("arxiv") or "-",
            origin_label(entry.name),
            paper,
            _format_kwargs(module_defaults(entry.name)),
        )
    return table


def sets_table(pattern: str) -> Table:
    """One row per grid of each variant set in ``variants/`` whose name matches ``pattern``."""
    from suite.variant_sets import VARIANT_SET_DIR, available, load

    names = fnmatch.filter(available(), pattern)
    table = Table(title=f"Variant sets in {VARIANT_SET_DIR} ({len(names)} matching {pattern!r}; run one: suite run --grid NAME)")
    _add_columns(table, ("set", "dataset", "folds x seeds", "profile"), ("variants", "recipe overrides"))
    for name in names:
        for request in load(name):
            table.add_row(
                name,
                request.dataset or "(task's standard set)",
                f"{request.folds} x {request.seeds}",
                request.profile,
                ", ".join(request.variants),
                _format_kwargs(request.overrides),
            )
    return table


def baselines_table(pattern: str) -> Table:
    table = Table(title=f"Baselines ({len(BASELINES.list(pattern))} of {len(BASELINES)} matching {pattern!r})")
    _add_columns(
        table, ("baseline", "tasks", "points"),
        ("groups", "default points per module kind", "arguments (e.g. unet(width=18))", "paper"),
    )
    for entry in BASELINES.entries(pattern):
        catalog = entry.meta["catalog"]
        table.add_row(
            entry.name,
            ", ".join(entry.meta["tasks"]),
            str(len(catalog.names)),
            ", ".join(f"{group} ({len(points)})" for group, points in catalog.groups.items()) or "-",
            "; ".join(f"{kind}: {points}" for kind, points in catalog.defaults.items()) or "-",
            ", ".join(f"{k}={show_value(v)}" for k, v in baseline_defaults(entry.name).items()) or "-",
            _paper(entry.meta),
        )
    return table


def points_table(baseline: str, task: str, num_classes: int, image_size: int, pattern: str) -> Table:
    """The points of ``baseline`` as built for ``task`` at ``image_size`` px (channels depend on the build)."""
    from suite.build import build_variant

    entry = BASELINES.entry(baseline)
    catalog = entry.meta["catalog"]
    points = build_variant(entry.name, task, num_classes, 3, image_size).model.insertion_points()
    groups_of = {name: [g for g, members in catalog.groups.items() if name in members] for name in points}
    default_for = {
        name: [kind for kind, token in catalog.defaults.items() if name in catalog.expand(token)] for name in points
    }
    shown = [name for name in points if fnmatch.fnmatchcase(name, pattern.lower())]
    table = Table(
        title=f"{entry.name} insertion points ({len(shown)} of {len(points)} matching {pattern!r}; "
        f"built for {task} at {image_size}x{image_size} px, 3 input channels, default width)",
        caption="channels: in -> out where a module can replace the block; stride: input size / feature size",
    )
    has_blocks = any(points[name].replace for name in shown)
    _add_columns(
        table,
        ("point", "channels", "stride", "layout", "kinds"),
        ("groups", "default for", *(("replaces",) if has_blocks else ())),
    )
    for name in shown:
        point = points[name]
        channels = f"{point.in_channels} -> {point.channels}" if point.in_channels else str(point.channels)
        row = [
            name,
            channels,
            str(point.stride),
            point.layout,
            ", ".join(point.kinds),
            ", ".join(groups_of[name]) or "-",
            ", ".join(default_for[name]) or "-",
        ]
        table.add_row(*row, *((point.replace or "-",) if has_blocks else ()))
    return table


def print_inspection(console: Console, report: dict) -> None:
    """Human view of the ``suite inspect`` report (the same dict ``--json`` prints)."""
    size = f"{report['image_size']}x{report['image_size']} px"
    console.print(f"[bold]{report['spec']}[/bold]")
    console.print(
        f"task {report['task']}, input {report['in_channels']} x {size}, "
        f"{report['num_classes']} output class{'es' if report['num_classes'] != 1 else ''}"
        + (f", {_format_kwargs(report['baseline_kwargs'])}" if report["baseline_kwargs"] else "")
    )
    if report["placements"]:
        console.print(placements_table(report["placements"]))
    for tree in composite_trees(report["placements"]):
        console.print(tree)
    console.print(cost_table(report, size))
    if "capacity_control" in report:
        console.print(f"capacity control: {escape(report['capacity_control']['summary'])}")


def placements_table(placements: list[dict]) -> Table:
    table = Table(title="Insertions (params: all copies at the point, e.g. one per residual block)")
    _add_columns(table, ("module", "point", "mode", "channels", "stride", "layout"), ("resolved arguments",))
    table.add_column("params", no_wrap=True, justify="right")
    for p in placements:
        channels = f"{p['in_channels']} -> {p['channels']}" if p["in_channels"] else str(p["channels"])
        table.add_row(
            p["module"], p["point"], p["mode"], channels, str(p["stride"]), p["layout"],
            _format_kwargs(p["hparams"], "\n"), f"{p['params']:,}",
        )
    return table


def composite_trees(placements: list[dict]) -> list[Tree]:
    """One tree per composite insertion: its members, how they combine, their resolved arguments and
    parameters, as built at its first point."""
    trees, seen = [], set()
    for p in placements:
        if not p.get("tree") or p["module"] in seen:
            continue
        seen.add(p["module"])
        points = [q["point"] for q in placements if q["module"] == p["module"] and q["mode"] == p["mode"]]
        tree = Tree(
            f"[bold]{escape(p['module'])}[/bold] ({p['mode']}, at {', '.join(points)}; "
            f"as built at {p['point']}, {p['channels']} channels)"
        )
        _grow(tree, p["tree"])
        trees.append(tree)
    return trees


def _grow(parent: Tree, node: dict) -> None:
    params = f"{node['params']:,} params"
    if "module" in node:
        parent.add(f"{node['module']}  {escape(_format_kwargs(node['hparams']))}  ({params})")
        return
    if node["op"] == "serial":
        label = "serial: each member on the previous one's output"
    else:
        label = f"parallel: every member on the same input, merged by {node['fusion']}"
    branch = parent.add(f"{label} ({params})")
    for member in node["members"]:
        _grow(branch, member)


def cost_table(report: dict, size: str) -> Table:
    table = Table(title=f"Cost at batch 1, {size}", show_header=False)
    table.add_column("measure", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row(
        "params",
        f"{report['params']:,} ({report['params_added']:+,} = {report['params_added_pct']:+.2f}% "
        f"over the baseline's {report['baseline_params']:,})",
    )
    gmacs = f"{report['gmacs']:.4g} GMACs (1 multiply-add = 1 MAC)"
    if report["gmacs_added"] is not None:
        gmacs += f", {report['gmacs_added']:+.3g} over the baseline's {report['baseline_gmacs']:.4g}"
    table.add_row("compute", gmacs)
    elementwise = (
        f"{report['elementwise_mops']:.4g} M-ops not in GMACs (one per output element of mul, add, sigmoid, "
        "softmax, ...)"
    )
    if report["elementwise_mops_added"] is not None:
        elementwise += (
            f", {report['elementwise_mops_added']:+.3g} over the baseline's {report['baseline_elementwise_mops']:.4g}"
        )
    table.add_row("element-wise", elementwise)
    unsupported = ", ".join(f"{op} x{calls}" for op, calls in report["unsupported"].items())
    table.add_row("not counted", unsupported or "-")
    for name in ("latency", "throughput"):
        measured = report[name]
        if measured is None:
            table.add_row(name, "not measured")
            continue
        table.add_row(
            name,
            f"{measured['median_ms']:.2f} ms median (IQR {measured['iqr_ms']:.2f} ms, {measured['runs']} runs) "
            f"at batch {measured['batch_size']} = {measured['images_per_s']:.1f} images/s; "
            f"{measured['dtype']}, {measured['device']} ({measured['device_name']})",
        )
    peak = report["peak_mem_mib"]
    if report["latency"] is not None:
        table.add_row("peak memory", f"{peak:.1f} MiB allocated (CUDA, weights included)" if peak else "n/a on CPU")
    return table
