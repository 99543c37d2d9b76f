"""The Studies page's data: the studies of a store as a table, and each study table of the report model
(position table, effects, gain by train fraction) as a tidy frame for its chart.

Pure pandas, no Streamlit. The cells are worded by ``suite.reports._format`` and ``_study_text``, so a
sweep cell, an effect or a fraction reads the same here as in ``suite compare --study``.
"""

from __future__ import annotations

import pandas as pd

from suite.reports import _format, _study_text
from suite.reports.study_model import EffectTable, FractionCurve, PositionTable
from suite.reports.style import style
from suite.studies.ablation import LEAVE_ONE_OUT
from suite.studies.record import Study
from suite.verdict import Comparison


def studies_table(studies: list[Study]) -> pd.DataFrame:
    """One row per study, newest first: name, kind, what it tested, dataset, folds, seeds, fractions, created."""
    rows = []
    for study in reversed(studies):
        design = study.design
        rows.append(
            {
                "name": study.name,
                "kind": study.kind,
                "base": design.get("base") or ", ".join(map(_format.spec_label, design.get("variants", []))),
                "dataset": design.get("dataset", ""),
                "variants": len({member[0] for member in study.members}),
                "folds": design.get("folds"),
                "seeds": design.get("seeds"),
                "train fractions": ", ".join(f"{f:g}" for f in design.get("fractions", [1.0])),
                "created": study.created_at,
            }
        )
    return pd.DataFrame(rows)


def comparison_fields(comp: Comparison) -> dict:
    """What the Studies page shows of one comparison: names, gain with its CI, verdict and mark, p, params."""
    lo, hi = comp.ci95 if comp.ci95 else (None, None)
    return {
        "variant": comp.variant,
        "label": _format.spec_label(comp.variant),
        "dataset": comp.dataset,
        "recipe_hash": comp.recipe_hash,
        "gain": comp.gain,
        "ci95_lo": lo,
        "ci95_hi": hi,
        "ci_text": _format.gain_ci(comp),
        "verdict": comp.verdict,
        "mark": style(comp.verdict).mark if comp.has_stats else "refused",
        "p_text": _format.p_value(comp.shown_p),
        "params_text": _format.params_added(comp),
    }


def comparisons_frame(comparisons: list[Comparison]) -> pd.DataFrame:
    """One row per comparison, worded as in ``comparison_fields``."""
    return pd.DataFrame([comparison_fields(comp) for comp in comparisons])


def position_frame(table: PositionTable) -> pd.DataFrame:
    """One row per sweep cell that ran: position (its row label), column, gain, CI, verdict and mark, params."""
    rows = []
    for order, row in enumerate(table.rows):
        for column in table.columns:
            comp = table.cells.get((row.position, column))
            if comp is not None:
                position = _study_text.position_label(table, row.position)
                rows.append({"position": position, "order": order, "column": column, **comparison_fields(comp)})
    return pd.DataFrame(rows)


def effects_frame(table: EffectTable) -> pd.DataFrame:
    """One row per effect: kind, factors, name, gain with its 95% CI, verdict and its reading."""
    rows = []
    for effect in table.effects:
        lo, hi = effect.ci95 if effect.ci95 else (None, None)
        what = " × ".join(effect.factors) if effect.kind != LEAVE_ONE_OUT else f"full − {effect.factors[0]}"
        rows.append(
            {
                "setting": effect.setting,
                "kind": effect.kind,
                "effect": what,
                "effect_label": (f"{effect.setting}: " if effect.setting else "") + f"{effect.kind}: {what}",
                "gain": effect.gain,
                "ci95_lo": lo,
                "ci95_hi": hi,
                "ci_text": _format.gain_ci(effect),
                "p_text": _format.p_value(effect.shown_p),
                "verdict": effect.verdict,
                "reading": effect.reading,
            }
        )
    return pd.DataFrame(rows)


def curve_frame(curves: list[FractionCurve]) -> pd.DataFrame:
    """One row per (variant, train fraction): gain with its 95% CI, verdict, mean training images per fold."""
    return pd.DataFrame(
        [
            {"fraction": point.fraction, "n_train": point.n_train, **comparison_fields(point.comparison)}
            for curve in curves
            for point in curve.points
        ]
    )
