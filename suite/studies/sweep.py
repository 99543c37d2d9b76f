"""Position sweeps: where in the network does a module help? One variant per (module, point, mode).

``suite sweep unet+se --points all --modes after,residual`` expands into ``unet+se@enc1``,
``unet+se@enc1:residual``, ..., one single-point variant per module, point and mode, plus, with
``--groups``, one variant per group of points (``@encoder``, ``@decoder``, ``@skip``). A point the
module's kind cannot take (an attention module at a ``down`` point), a mode its kind lacks, or a cell
that cannot be built at the recipe's image size is skipped and listed once, not an error.

Rows are ordered shallow to deep: by the stride of the point's map, then encoder, skip, decoder at one
stride, then by name; group rows come after the single points. The design (rows, columns, cells,
skipped) is stored with the study, so its position table is drawn again from the store alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from suite.errors import SuiteError
from suite.kinds import KINDS
from suite.registry import natural_key
from suite.spec import Insertion, Spec, canonical, insertion_kind, parse

ALL_POINTS = "all"
# Rank of a point's role at one stride: encoder side first, then the skip, then the decoder side.
_ROLE_RANK = {"skip": 1, "decoder": 2, "up": 2}


@dataclass(frozen=True)
class SweepCell:
    """One variant of the sweep: a module at one position in one mode."""

    variant: str  # canonical spec
    column: str  # module x mode label, e.g. "se" or "se:residual"
    position: str  # a point name, or "@group" for a group of points


@dataclass(frozen=True)
class SweepRow:
    """A position of the table: a point (with its stride) or a group of points."""

    position: str
    stride: int | None  # input size / map size at the point; None for a group
    points: tuple[str, ...]  # the point itself, or the group's points


@dataclass
class SweepDesign:
    baseline: str
    rows: list[SweepRow]
    columns: list[str]
    cells: list[SweepCell]
    skipped: list[str] = field(default_factory=list)  # one line per (module or mode, reason)

    @property
    def variants(self) -> list[str]:
        return list(dict.fromkeys(cell.variant for cell in self.cells))

    def to_dict(self) -> dict:
        return {
            "baseline": self.baseline,
            "rows": [asdict(row) for row in self.rows],
            "columns": self.columns,
            "cells": [asdict(cell) for cell in self.cells],
            "skipped": self.skipped,
        }

    @classmethod
    def from_dict(cls, values: dict) -> "SweepDesign":
        rows = [SweepRow(r["position"], r["stride"], tuple(r["points"])) for r in values["rows"]]
        cells = [SweepCell(**cell) for cell in values["cells"]]
        return cls(values["baseline"], rows, list(values["columns"]), cells, list(values["skipped"]))


def split_list(text: str | None) -> list[str]:
    """``"se,cbam(rd_ratio=0.25,k=3)"`` -> ``["se", "cbam(rd_ratio=0.25,k=3)"]``: commas inside brackets stay."""
    if text is None:
        return []
    parts, depth, current = [], 0, ""
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return [part for part in parts if part]


def _modules(spec: Spec, extra: list[str]) -> list[Insertion]:
    """The swept modules: the spec's own insertion, then ``--modules`` (each written as in a spec)."""
    found = list(spec.insertions)
    for text in extra:
        parsed = parse(f"{spec.baseline}+{text}")
        if len(parsed.insertions) != 1 or parsed.insertions[0].points or parsed.insertions[0].mode:
            raise SuiteError(
                f"--modules takes module names with optional arguments, e.g. se,eca,cbam(rd_ratio=0.25); "
                f"got {text!r} (points go in --points, modes in --modes)"
            )
        found.append(parsed.insertions[0])
    unique = list({str(ins): ins for ins in found}.values())
    if not unique:
        raise SuiteError(f"nothing to sweep in {spec}; name a module, e.g. {spec.baseline}+se, or pass --modules se,eca")
    return unique


def _strides(baseline: str) -> dict[str, int]:
    """Stride of every point of ``baseline``, from a tiny build on the meta device (no memory touched)."""
    import torch

    from suite.baselines import BASELINES

    entry = BASELINES.entry(baseline)
    smoke = dict(entry.meta.get("smoke", {}))
    size = smoke.pop("image_size", 32)
    with torch.device("meta"):
        model = entry.obj(entry.meta["tasks"][0], 1, 3, size, **smoke)
    return {name: point.stride for name, point in model.insertion_points().items()}


def _role(point: str, groups: dict[str, tuple[str, ...]]) -> int:
    return max((rank for group, rank in _ROLE_RANK.items() if point in groups.get(group, ())), default=0)


def position_order(baseline: str, points: list[str]) -> list[SweepRow]:
    """``points`` as rows, shallow to deep: stride, then encoder / skip / decoder, then name."""
    from suite.baselines import BASELINES

    groups = BASELINES.entry(baseline).meta["catalog"].groups
    strides = _strides(baseline)
    ordered = sorted(points, key=lambda p: (strides[p], _role(p, groups), natural_key(p)))
    return [SweepRow(p, strides[p], (p,)) for p in ordered]


def _skip_line(module: str, kind: str, where: list[str], why: str) -> str:
    return f"{module} ({kind}) at {', '.join(where)}: {why}"


def expand_sweep(
    spec_text: str, points: list[str] | None = None, modes: list[str] | None = None,
    modules: list[str] | None = None, groups: bool = False,
) -> SweepDesign:  # fmt: skip
    """The sweep of ``spec_text`` (a baseline and at most one module) over ``points`` (names, groups, globs or
    ``all``; default: the spec's points, else all), ``modes`` (default: each module's default mode) and
    ``modules`` (added to the spec's); with ``groups``, also every group of points each module's kind fits."""
    from suite.baselines import BASELINES

    spec = parse(spec_text)
    if len(spec.insertions) > 1:
        raise SuiteError(
            f"suite sweep moves one module at a time; {spec_text!r} has {len(spec.insertions)} insertions: "
            f"sweep each (e.g. {spec.baseline}+{spec.insertions[0].module}) or ablate them with suite ablate"
        )
    catalog = BASELINES.entry(spec.baseline).meta["catalog"]
    swept = _modules(spec, modules or [])
    tokens = points or (list(spec.insertions[0].points) if spec.insertions and spec.insertions[0].points else [ALL_POINTS])
    candidates = list(catalog.names) if ALL_POINTS in tokens else list(catalog.expand(tokens))
    asked_modes = modes or ([spec.insertions[0].mode] if spec.insertions and spec.insertions[0].mode else [])
    unknown = [m for m in asked_modes if m not in {mode for kind in KINDS.values() for mode in kind.modes}]
    if unknown:
        modes_known = ", ".join(dict.fromkeys(m for kind in KINDS.values() for m in kind.modes))
        raise SuiteError(f"unknown mode {unknown[0]!r} in --modes; modes: {modes_known}")
    rows = position_order(spec.baseline, candidates)
    group_rows = [
        SweepRow(f"@{name}", None, members) for name, members in catalog.groups.items() if groups and len(members) > 1
    ]
    columns, cells, skipped = [], [], []
    for insertion in swept:
        label = str(insertion.unit)  # the module with its arguments, or a composite
        kind = KINDS[insertion_kind(insertion)]
        module_modes = [m for m in asked_modes if m in kind.modes] or ([] if asked_modes else [kind.default_mode])
        if not module_modes:
            skipped.append(_skip_line(label, kind.name, ["every point"], f"takes mode {', '.join(kind.modes)} only"))
            continue
        missing = [m for m in asked_modes if m not in kind.modes]
        if missing:
            skipped.append(_skip_line(label, kind.name, ["every point"], f"no mode {', '.join(missing)}"))
        unfit = [row.position for row in rows + group_rows if any(kind.name not in catalog.kinds[p] for p in row.points)]
        if unfit:
            skipped.append(_skip_line(label, kind.name, unfit, f"not a point for {kind.name} modules"))
        for mode in module_modes:
            column = label if mode == kind.default_mode else f"{label}:{mode}"
            columns.append(column)
            for row in rows + group_rows:
                if row.position in unfit:
                    continue
                where = row.position.removeprefix("@")
                placed = Insertion.of(insertion.unit, (where,), mode)
                variant = str(canonical(Spec(spec.baseline, (placed,), spec.baseline_kwargs)))
                cells.append(SweepCell(variant, column, row.position))
    used = {cell.position for cell in cells}
    design = SweepDesign(spec.baseline, [row for row in rows + group_rows if row.position in used], columns, [], skipped)
    seen: set[str] = set()
    for cell in cells:  # a group of one point, or two names for one set of points: one variant, its first row
        if cell.variant not in seen:
            seen.add(cell.variant)
            design.cells.append(cell)
    if not design.cells:
        raise SuiteError(f"the sweep of {spec_text!r} has no cell left: " + "; ".join(skipped))
    return design


def drop_unbuildable(design: SweepDesign, task: str, classes: int, in_channels: int, image_size: int, model: dict) -> SweepDesign:
    """The design without the cells that cannot be built at ``image_size`` (a map too small for the
    module, ...), each listed in ``skipped`` with its reason; built on the meta device."""
    import torch

    from suite.build import build_variant

    kept, skipped = [], list(design.skipped)
    for cell in design.cells:
        try:
            with torch.device("meta"):
                build_variant(cell.variant, task, classes, in_channels, image_size, **model)
        except SuiteError as err:
            skipped.append(f"{cell.column} at {cell.position}: {err}")
            continue
        kept.append(cell)
    if not kept:
        raise SuiteError("no cell of the sweep can be built at this image size: " + "; ".join(skipped[-3:]))
    used = {cell.position for cell in kept}
    return SweepDesign(design.baseline, [r for r in design.rows if r.position in used], design.columns, kept, skipped)


def fit_to_request(design: SweepDesign, request) -> SweepDesign:
    """``drop_unbuildable`` at the image size and model settings the request's recipe trains with (a
    ``GridRequest``); a dataset of another task is left for ``suite.grid.resolve`` to refuse."""
    from suite.baselines import BASELINES
    from suite.datasets import DATASETS
    from suite.grid import STANDARD_DATASET
    from suite.recipe import load_recipe

    tasks = BASELINES.entry(design.baseline).meta["tasks"]
    entry = DATASETS.entry(request.dataset or STANDARD_DATASET[tasks[0]])
    task, card = entry.meta["task"], entry.meta["card"]
    if task not in tasks:
        return design
    recipe = load_recipe(design.baseline, task, request.profile, request.overrides)
    classes = len(card.classes) if task == "cls" else 1
    return drop_unbuildable(design, task, classes, card.in_channels, recipe.image_size, recipe.model)
