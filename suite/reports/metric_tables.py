"""The descriptive tables a report section carries next to its verdicts.

- every validation metric of the section's baselines and variants (mean ± sd over folds × seeds; the
  verdict tests one metric, these show the rest, e.g. IoU, HD95 and NSD next to a Dice verdict);
- the official test split, where the dataset has one: each run's model scored once on it, shown apart
  and never part of a verdict;
- per-image percentiles of the section's metric, a variant's images paired with its baseline's
  (``suite.per_sample``);
- how the boundary metrics were scored (NSD tolerance, pixel spacing), from the runs' provenance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from suite.metric_catalog import METRIC_CATALOG
from suite.per_sample import PerImageSummary, paired, summarize
from suite.verdict import Comparison

BASELINE, VARIANT = "baseline", "variant"


@dataclass
class SpecValues:
    """Mean and sd of each metric over one spec's finished runs in one setting."""

    spec: str
    role: str  # BASELINE or VARIANT
    setting: str  # the setting label ("" when its baseline has one setting)
    runs: int
    values: dict[str, tuple[float, float | None]]  # metric -> (mean, sd); sd None for one run

    def to_dict(self) -> dict:
        def finite(x: float | None) -> float | None:
            return x if x is not None and math.isfinite(x) else None

        values = {m: {"mean": finite(mean), "sd": finite(sd)} for m, (mean, sd) in self.values.items()}
        return {"spec": self.spec, "role": self.role, "setting": self.setting, "runs": self.runs, "values": values}


@dataclass
class PerImage:
    """The per-image percentiles of one comparison's metric."""

    variant: str
    baseline: str
    setting: str
    summary: PerImageSummary

    def to_dict(self) -> dict:
        return {"variant": self.variant, "baseline": self.baseline, "setting": self.setting} | self.summary.to_dict()


def metric_order(names: set[str]) -> list[str]:
    """Catalog order first (accuracy, macro F1, ECE, Dice, IoU, HD95, ...), then other names sorted."""
    return [n for n in METRIC_CATALOG if n in names] + sorted(names - METRIC_CATALOG.keys())


def setting_runs(runs: pd.DataFrame, comp: Comparison, spec: str) -> pd.DataFrame:
    """The finished runs of ``spec`` on the comparison's dataset, split manifest and recipe."""
    chosen = (runs["spec"] == spec) & (runs["dataset"] == comp.dataset) & (runs["manifest_hash"] == comp.manifest_hash)
    chosen &= runs["recipe_hash"] == comp.recipe_hash
    if "status" in runs:
        chosen &= runs["status"] == "done"
    return runs[chosen]


def _values(rows: pd.DataFrame, prefix: str) -> dict[str, tuple[float, float | None]]:
    names = {c.removeprefix(prefix) for c in rows.columns if c.startswith(prefix) and rows[c].notna().any()}
    found = {}
    for name in metric_order(names):
        column = rows[f"{prefix}{name}"].dropna().to_numpy(dtype=float)
        found[name] = (float(column.mean()), float(np.std(column, ddof=1)) if column.size > 1 else None)
    return found


def spec_values(runs: pd.DataFrame, settings: list[tuple[str, list[Comparison]]], prefix: str) -> list[SpecValues]:
    """One row per baseline and variant of ``settings`` ((label, comparisons) pairs), from the ``prefix``
    columns (``val_`` or ``test_``); specs without any such value are left out."""
    rows = []
    for label, comps in settings:
        specs = [(comps[0].baseline, BASELINE)] + [(c.variant, VARIANT) for c in comps]
        for spec, role in specs:
            chosen = setting_runs(runs, comps[0], spec)
            values = _values(chosen, prefix)
            if values:
                rows.append(SpecValues(spec, role, label, len(chosen), values))
    return rows


def per_image(runs: pd.DataFrame, settings: list[tuple[str, list[Comparison]]]) -> list[PerImage]:
    """The per-image summary of every comparison whose runs kept per-sample values of its metric."""
    if "per_sample" not in runs:
        return []
    found = []
    for label, comps in settings:
        for comp in comps:
            pairs = paired(setting_runs(runs, comp, comp.baseline), setting_runs(runs, comp, comp.variant), comp.metric)
            summary = summarize(pairs)
            if summary is not None:
                found.append(PerImage(comp.variant, comp.baseline, label, summary))
    return found


def scoring_text(runs: pd.DataFrame, comparisons: list[Comparison]) -> str:
    """How the runs' boundary metrics were scored, e.g. "NSD tolerance 1 px; HD95 in mm at 3.2e-05 x 3.2e-05
    mm per pixel (row x column)"; "" when no run recorded it (classification, older runs)."""
    if "provenance" not in runs:
        return ""
    used = pd.concat([setting_runs(runs, c, s) for c in comparisons for s in (c.baseline, c.variant)])
    scorings = {
        repr(p["scoring"]): p["scoring"] for p in used["provenance"] if isinstance(p, dict) and p.get("scoring")
    }
    texts = []
    for scoring in scorings.values():
        parts = [f"NSD tolerance {scoring['nsd_tolerance_px']:g} px of the mask as scored"]
        spacing = scoring.get("pixel_spacing_mm")
        if spacing:
            parts.append(f"HD95 in mm at {spacing[0]:.4g} x {spacing[1]:.4g} mm per pixel (row x column)")
        if scoring.get("cldice"):
            parts.append("clDice scored (tubular structures)")
        texts.append(", ".join(parts))
    return "; ".join(texts)
