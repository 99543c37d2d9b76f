"""Leaderboard page: every variant and baseline with its metric, gain, verdict and cost; filters and CSV."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from _data import Board, board
from _tables import (
    BASELINE,
    describe_metric,
    filter_rows,
    leaderboard,
    metric_label,
    metric_unit,
    split_labels,
    to_csv,
)
from suite.reports.style import style
from suite.verdict_names import VERDICTS

COLUMNS = {  # display column -> config; order is the display order
    "dataset": st.column_config.TextColumn("Dataset"),
    "variant": st.column_config.TextColumn("Variant", help="Canonical spec; a baseline's row shows it plain."),
    "verdict": st.column_config.TextColumn("Verdict"),
    "metric": st.column_config.TextColumn("Metric"),
    "mean_sd": st.column_config.TextColumn("Mean ± SD", help="Over the paired (fold, seed) runs, metric units."),
    "gain": st.column_config.NumberColumn("Gain", format="%+.3g", help="Variant − baseline, metric units."),
    "ci95": st.column_config.TextColumn("Gain 95% CI", help="Corrected resampled t interval."),
    "p_shown": st.column_config.NumberColumn(
        "p (Holm)", format="%.3g", help="One-sided in the direction of the gain, Holm-adjusted."
    ),
    "folds_won": st.column_config.TextColumn("Folds won"),
    "runs": st.column_config.NumberColumn("Runs", help="Paired (fold, seed) runs behind the mean."),
    "params_m": st.column_config.NumberColumn("Params (M)", format="%.3f"),
    "params_added_pct": st.column_config.NumberColumn("+Params %", format="%+.2f"),
    "gmacs": st.column_config.NumberColumn("GMACs", format="%.4g", help="fvcore, batch 1, recipe image size."),
    "gmacs_added_pct": st.column_config.NumberColumn("+GMACs %", format="%+.2f"),
    "latency_ms": st.column_config.NumberColumn("Latency (ms, batch 1)", format="%.3g", help="Median forward time."),
    "latency_added_pct": st.column_config.NumberColumn(
        "+Latency %",
        format="%+.1f",
        help="Only when variant and baseline were timed on one device; runs since store schema 3 time the "
        "baseline interleaved with the variant, so this is a paired difference under one machine load.",
    ),
    "latency_device": st.column_config.TextColumn("Timed on"),
    "baseline": st.column_config.TextColumn("Baseline"),
    "module": st.column_config.TextColumn("Module"),
    "points": st.column_config.TextColumn("Points"),
    "reason": st.column_config.TextColumn("Why", width="large"),
}


def _options(table: pd.DataFrame, column: str) -> list[str]:
    return sorted({name for cell in table[column] for name in split_labels(cell)})


def _sidebar_filters(table: pd.DataFrame) -> pd.DataFrame:
    with st.sidebar:
        st.subheader("Filter")
        chosen = {
            "datasets": st.multiselect("Dataset", _options(table, "dataset"), key="filter_dataset"),
            "baselines": st.multiselect("Baseline", _options(table, "baseline"), key="filter_baseline"),
            "modules": st.multiselect("Module", _options(table, "module"), key="filter_module"),
            "points": st.multiselect("Point", _options(table, "points"), key="filter_point"),
            "verdicts": st.multiselect("Verdict", list(VERDICTS), key="filter_verdict"),
        }
    return filter_rows(table, **chosen)


def _mean_sd(mean: float, sd: float, metric: str) -> str:
    """``91.98 ± 2.49`` for percent metrics, ``0.8537 ± 0.0141`` for fractions."""
    if pd.isna(mean):
        return ""
    decimals = 2 if metric_unit(metric).startswith("percent") else 4
    return f"{mean:.{decimals}f}" + ("" if pd.isna(sd) else f" ± {sd:.{decimals}f}")


def _display(table: pd.DataFrame) -> pd.DataFrame:
    shown = table.copy()
    shown["params_m"] = shown["params"].astype(float) / 1e6
    shown["ci95"] = [
        "" if pd.isna(lo) else f"[{lo:+.3g}, {hi:+.3g}]" for lo, hi in zip(shown["ci95_lo"], shown["ci95_hi"])
    ]
    shown["mean_sd"] = [_mean_sd(*cells) for cells in zip(shown["mean"], shown["sd"], shown["metric"])]
    shown["metric"] = shown["metric"].map(metric_label)
    return shown[list(COLUMNS)]


def _verdict_style(verdict: str) -> str:
    look = style(verdict)
    return f"background-color: {look.background}; color: {look.colour}; font-weight: 600"


def _caption(view: Board, table: pd.DataFrame) -> str:
    metrics = sorted(
        {
            f"{dataset}: {describe_metric(metric, view.delta if pd.isna(delta) else delta)}"
            for dataset, metric, delta in zip(table["dataset"], table["metric"], table["delta"])
        }
    )
    devices = ", ".join(sorted(view.runs["device"].dropna().astype(str).unique())) or "unrecorded device"
    return (
        f"**Metric** — {'; '.join(metrics)}. Mean ± SD over the (fold, seed) runs of the validation folds. "
        "**Gain** = variant − baseline on the same (fold, seed), averaged over seeds within a fold; its 95% CI "
        "and one-sided p come from the corrected resampled t-test (Nadeau & Bengio 2003), p Holm-adjusted "
        "across the variants compared. **holds**: adjusted p < 0.05, gain ≥ δ and won in ≥ k−1 of k folds; "
        "**worse**: the mirror image; **no practical gain**: the 90% CI lies inside ±δ; **inconclusive**: "
        "anything else (MDE = smallest gain detectable at 80% power). **Cost** — params counted exactly; "
        "GMACs by fvcore (one multiply-add = 1 MAC) at batch 1 and the recipe's image size; latency = median "
        f"forward time in ms at batch 1 on {devices}, each variant timed interleaved with its baseline; "
        "+ % relative to the baseline."
    )


view = board()
if view is None:
    st.stop()

st.title("Leaderboard")
table = leaderboard(view.runs, view.comparisons, view.metric)
if table.empty:
    st.info("No finished run reports a validation metric for this choice; pick another metric in the sidebar.")
    st.stop()
if view.comparisons.empty:
    st.info("Only baselines are stored so far: add a variant, e.g. `suite run --variant unet+se`.")

shown = _sidebar_filters(table)
if shown.empty:
    st.info("No row matches the filters in the sidebar; clear one to see more.")
    st.stop()
counts = shown["verdict"].value_counts()
st.markdown(
    " ".join(f":{style(v).badge}-badge[{v}: {counts.get(v, 0)}]" for v in VERDICTS)
    + f" — {int((shown['verdict'] != BASELINE).sum())} variant(s), {int((shown['verdict'] == BASELINE).sum())} baseline(s)"
)
st.dataframe(
    _display(shown).style.map(_verdict_style, subset=["verdict"]),
    column_config=COLUMNS,
    hide_index=True,
    placeholder="—",
    key="leaderboard",
)
st.caption(_caption(view, shown))
st.download_button("Download CSV", to_csv(shown), file_name="suite-leaderboard.csv", mime="text/csv")
if not view.failed.empty:
    with st.expander(f"{len(view.failed)} failed run(s), not counted above"):
        st.dataframe(view.failed[["dataset", "spec", "fold", "seed", "error"]], hide_index=True)
