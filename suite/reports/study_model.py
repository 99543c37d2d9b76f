"""A study's own tables, part of the ``Report`` every view renders: the position table of a sweep, the
effects of an ablation, and the gain-versus-fraction curve of a small-data study.

They are built from the report's comparisons (a sweep's cells and a curve's points are ordinary
variant-vs-baseline verdicts in the study's family) and, for the effects, from the runs themselves
(``suite.studies.effects``). The study's design, stored with it, says where each variant goes: which
point and column of the position table, which subset of the ablation, which train fraction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from suite.reports import _format
from suite.studies.ablation import INTERACTION, MAIN
from suite.studies.effects import Effect, ablation_effects
from suite.studies.record import Study
from suite.studies.sweep import SweepDesign, SweepRow
from suite.verdict import Comparison
from suite.verdict_names import HOLDS, HOLDS_BEYOND_DELTA

_HOLDING = (HOLDS, HOLDS_BEYOND_DELTA)


def fraction_label(fraction: float) -> str:
    return f"train fraction {fraction:g}"


@dataclass
class PositionTable:
    """A sweep on one dataset, metric and train fraction: rows = positions, columns = module x mode."""

    dataset: str
    metric: str
    setting: str  # e.g. "train fraction 0.25"; "" at the full training folds alone
    rows: list[SweepRow]
    columns: list[str]
    cells: dict[tuple[str, str], Comparison]  # (position, column) -> its verdict
    skipped: list[str] = field(default_factory=list)

    def summaries(self) -> list[str]:
        """One line per column: the best position and how many hold."""
        lines = []
        unit = "positions" if any(row.stride is None for row in self.rows) else "points"
        for column in self.columns:
            found = [(row.position, self.cells[(row.position, column)]) for row in self.rows if (row.position, column) in self.cells]
            tested = [(position, comp) for position, comp in found if comp.has_stats]
            holding = sum(comp.verdict in _HOLDING for _, comp in tested)
            if not tested:
                lines.append(f"{column}: no position tested yet ({len(found)} planned)")
                continue
            position, best = max(tested, key=lambda item: item[1].gain)
            controlled = [comp.beyond_capacity for _, comp in tested if comp.beyond_capacity is not None]
            beyond = f" ({sum(controlled)} of them beyond capacity)" if controlled else ""
            lines.append(
                f"{column}: best point {position}, {_format.gain_ci(best)}, {best.capacity_summary or best.verdict}; "
                f"{holding} of {len(found)} {unit} hold{beyond}"
            )
        return lines


@dataclass
class EffectTable:
    """The effects of an ablation on one dataset and metric (every train fraction: one Holm family)."""

    dataset: str
    metric: str
    factors: list[str]
    subsets: list[str]  # spec of each subset, index = bit mask of the factors on
    effects: list[Effect]

    def summaries(self) -> list[str]:
        lines = []
        for setting in dict.fromkeys(effect.setting for effect in self.effects):
            effects = [e for e in self.effects if e.setting == setting]
            carrying = [e.factors[0] for e in effects if e.kind == MAIN and e.verdict in _HOLDING]
            synergy = [" x ".join(e.factors) for e in effects if e.kind == INTERACTION and e.verdict in _HOLDING]
            prefix = f"{setting}: " if setting else ""
            lines.append(
                prefix
                + f"main effects that hold: {', '.join(carrying) or 'none'}; "
                + (f"synergy holds: {', '.join(synergy)}" if synergy else "no synergy holds")
            )
        return lines


@dataclass
class CurvePoint:
    fraction: float
    n_train: float | None  # mean training images per fold of the variant's runs
    comparison: Comparison


@dataclass
class FractionCurve:
    """One variant's gain and verdict at each train fraction (a small-data study)."""

    dataset: str
    metric: str
    variant: str
    baseline: str
    points: list[CurvePoint]  # smallest fraction first

    def summary(self) -> str:
        parts = [
            f"{p.fraction:g}: {p.comparison.verdict if p.comparison.has_stats else 'refused'}" for p in self.points
        ]
        return f"{_format.spec_label(self.variant)} by train fraction: " + ", ".join(parts)


@dataclass
class StudyView:
    """The study a report was built for, and its own tables."""

    id: str
    name: str
    kind: str
    created_at: str
    design: dict
    positions: list[PositionTable] = field(default_factory=list)
    effects: list[EffectTable] = field(default_factory=list)
    curves: list[FractionCurve] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"{self.kind} {self.name}"

    def describe(self) -> str:
        """What the study is, in one line: design, dataset, folds, seeds, fractions."""
        d = self.design
        what = {
            "sweep": lambda: f"sweep of {d.get('base', '?')}: {len(d.get('sweep', {}).get('cells', []))} cells",
            "ablation": lambda: f"ablation of {d.get('base', '?')}: {len(d.get('ablation', {}).get('factors', []))} factors, "
            f"{len(d.get('ablation', {}).get('subsets', []))} subsets",
            "fractions": lambda: f"small-data trial of {', '.join(map(_format.spec_label, d.get('variants', [])))}",
        }.get(self.kind, lambda: f"grid of {', '.join(map(_format.spec_label, d.get('variants', [])))}")()
        fractions = ", ".join(f"{f:g}" for f in d.get("fractions", [1.0]))
        return (
            f"{what}; dataset {d.get('dataset', '?')}, {d.get('folds', '?')} folds x {d.get('seeds', '?')} seed(s), "
            f"train fractions {fractions}; recorded {self.created_at}"
        )

    def curve_groups(self) -> list[list[FractionCurve]]:
        """The curves of one dataset and metric together (one table, one chart)."""
        groups: dict[tuple[str, str], list[FractionCurve]] = {}
        for curve in self.curves:
            groups.setdefault((curve.dataset, curve.metric), []).append(curve)
        return list(groups.values())

    def summaries(self) -> list[str]:
        lines = [line for table in self.positions for line in table.summaries()]
        lines += [line for table in self.effects for line in table.summaries()]
        return lines + [curve.summary() for curve in self.curves]


def _fractions(design: dict) -> dict[str, float]:
    """recipe hash -> train fraction, from the design (a grid study's: every recipe at fraction 1)."""
    return {h: float(f) for f, hashes in design.get("recipes", {}).items() for h in hashes.values()}


def study_view(study: Study, comparisons: list[Comparison], runs: pd.DataFrame) -> StudyView:
    """The study's tables over ``comparisons`` (the report's, in the study's family) and ``runs``."""
    view = StudyView(study.id, study.name, study.kind, study.created_at, study.design)
    fraction_of = _fractions(study.design)
    several = len(set(fraction_of.values())) > 1

    def setting(comp: Comparison) -> tuple[float, str]:
        fraction = fraction_of.get(comp.recipe_hash, 1.0)
        return fraction, fraction_label(fraction) if several else ""

    if study.kind == "sweep" and "sweep" in study.design:
        view.positions = _positions(SweepDesign.from_dict(study.design["sweep"]), comparisons, setting)
    if study.kind == "ablation" and "ablation" in study.design:
        view.effects = _effects(study, comparisons, runs, fraction_of, several)
    if several:
        view.curves = _curves(comparisons, runs, setting)
    return view


def _positions(design: SweepDesign, comparisons: list[Comparison], setting) -> list[PositionTable]:
    where = {cell.variant: cell for cell in design.cells}
    tables: dict[tuple, PositionTable] = {}
    for comp in comparisons:
        cell = where.get(comp.variant)
        if cell is None:
            continue
        fraction, label = setting(comp)
        key = (comp.dataset, comp.metric, fraction)
        if key not in tables:
            tables[key] = PositionTable(comp.dataset, comp.metric, label, design.rows, design.columns, {}, design.skipped)
        tables[key].cells[(cell.position, cell.column)] = comp
    return [tables[key] for key in sorted(tables, key=lambda k: (k[0], k[1], k[2]))]


def _effects(study: Study, comparisons: list[Comparison], runs: pd.DataFrame, fraction_of: dict, several: bool) -> list[EffectTable]:
    ablation = study.design["ablation"]
    specs, labels = ablation["subsets"], ablation["factors"]
    tables = []
    for dataset, metric in dict.fromkeys((c.dataset, c.metric) for c in comparisons if c.variant in specs):
        chosen = [c for c in comparisons if c.dataset == dataset and c.metric == metric and c.variant in specs]
        settings = sorted(
            {(c.manifest_hash, c.recipe_hash) for c in chosen}, key=lambda pair: fraction_of.get(pair[1], 1.0)
        )
        labelled = [(m, r, fraction_label(fraction_of.get(r, 1.0)) if several else "") for m, r in settings]
        family = f"{study.kind} {study.name} · {dataset} · {metric} · effects"
        effects = ablation_effects(runs[runs["dataset"] == dataset], specs, labels, metric, chosen[0].delta, labelled, family)
        tables.append(EffectTable(dataset, metric, labels, specs, effects))
    return tables


def _curves(comparisons: list[Comparison], runs: pd.DataFrame, setting) -> list[FractionCurve]:
    curves: dict[tuple, FractionCurve] = {}
    for comp in comparisons:
        fraction, _ = setting(comp)
        key = (comp.dataset, comp.metric, comp.variant)
        if key not in curves:
            curves[key] = FractionCurve(comp.dataset, comp.metric, comp.variant, comp.baseline, [])
        rows = runs[(runs["spec"] == comp.variant) & (runs["recipe_hash"] == comp.recipe_hash)]
        n_train = float(rows["n_train"].mean()) if not rows.empty else None
        curves[key].points.append(CurvePoint(fraction, n_train, comp))
    for curve in curves.values():
        curve.points.sort(key=lambda point: point.fraction)
    return list(curves.values())
