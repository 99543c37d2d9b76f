"""Text of a study's tables that every view shares: titles, headers, cells and captions of the position table,
the effects table and the fraction curve, as plain strings (each view adds its own marks and colours)."""

from __future__ import annotations

from suite import _stats
from suite.metric_catalog import metric_info
from suite.reports import _format
from suite.reports._common import verdict_text
from suite.reports.study_model import CurvePoint, EffectTable, FractionCurve, PositionTable
from suite.reports.style import VERDICT_STYLES, style
from suite.studies.effects import Effect
from suite.verdict import Comparison

EFFECT_HEADER = ("effect", "of", "gain [95% CI]", "p (Holm)", "won", "verdict")
CURVE_HEADER = ("variant", "fraction", "n_train", "mean ± sd", "gain [95% CI]", "p (Holm)", "won", "verdict")


def position_title(table: PositionTable) -> str:
    return f"Position sweep · {table.dataset} · {table.metric}" + (f" · {table.setting}" if table.setting else "")


def effects_title(table: EffectTable) -> str:
    return f"Ablation effects · {table.dataset} · {table.metric}"


def position_label(table: PositionTable, position: str) -> str:
    row = next(row for row in table.rows if row.position == position)
    return position if row.stride is None else f"{position} (/{row.stride})"


def position_cell(comp: Comparison | None) -> tuple[str, str]:
    """(gain [95% CI] and verdict mark, params added) of one sweep cell; dashes when not run or refused."""
    if comp is None:
        return "not run", ""
    params = f"{_format.count(comp.params_added)} params" if comp.params_added is not None else "params –"
    if not comp.has_stats:
        return "refused", params
    return f"{_format.gain_ci(comp)} {style(comp.verdict).mark}", params


def position_caption(table: PositionTable) -> str:
    info = metric_info(table.metric)
    marks = ", ".join(f"{s.mark} {label}" for label, s in VERDICT_STYLES.items())
    where = f"{table.dataset} · {table.metric}" + (f" · {table.setting}" if table.setting else "")
    return (
        f"Position sweep on {where}: gain over the baseline ({info.unit_text}) with its {_stats.CI_LEVEL:.0%} CI and "
        f"verdict mark ({marks}), and the parameters the module adds. Rows: points shallow to deep (/stride: input size "
        "over map size; encoder, skip, decoder at one stride), then groups of points. Verdicts in the study's family."
    )


def effect_cells(effect: Effect) -> list[str]:
    return [
        effect.kind,
        " × ".join(effect.factors),
        _format.gain_ci(effect),
        _format.p_value(effect.shown_p),
        "–" if effect.folds_won is None else f"{effect.folds_won}/{effect.n_folds}",
        effect.reading,
    ]


def effects_caption(table: EffectTable) -> str:
    info = metric_info(table.metric)
    subsets = ", ".join(_format.spec_label(spec) for spec in table.subsets)
    family = table.effects[0].family if table.effects else ""
    return (
        f"Ablation on {table.dataset} · {table.metric} ({info.unit_text}): effects computed per fold from the seed-averaged "
        f"subset means ({subsets}), then the corrected resampled t-test (Nadeau & Bengio) with the verdict's rule, "
        f"Holm over the {len(table.effects)} effects of the family {family}. Main effect: mean with the factor minus mean "
        "without it, over the other factors; interaction: (ab − a) − (b − none), averaged over the others, positive = "
        "synergy; leave-one-out drop: full − full without the factor. Synergy holds only when the interaction holds."
    )


def curve_cells(curve: FractionCurve, point: CurvePoint) -> list[str]:
    comp = point.comparison
    return [
        _format.spec_label(curve.variant),
        f"{point.fraction:g}",
        "–" if point.n_train is None else f"{point.n_train:.0f}",
        _format.mean_sd(comp.variant_mean, comp.variant_sd, comp.metric),
        _format.gain_ci(comp),
        _format.p_value(comp.shown_p),
        _format.folds_won(comp),
        verdict_text(comp),
    ]


def curves_title(curves: list[FractionCurve]) -> str:
    return f"Gain by train fraction · {curves[0].dataset} · {curves[0].metric}"


def curves_caption(curves: list[FractionCurve]) -> str:
    info = metric_info(curves[0].metric)
    baselines = ", ".join(dict.fromkeys(curve.baseline for curve in curves))
    return (
        f"Each variant against {baselines} on {curves[0].dataset} by train fraction: each fold's training part "
        "subsampled (nested, stratified by class, from the split seed; n_train: mean training images per fold), "
        f"the validation fold untouched, the recipe's epochs kept; {info.unit_text}; gain with its "
        f"{_stats.CI_LEVEL:.0%} CI, verdicts in the study's family."
    )
