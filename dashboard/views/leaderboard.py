"""Leaderboard page: every baseline setting and its variants with verdict, p, posterior, family and cost;
filters and CSV. The cells are worded as ``suite compare`` words them."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from _data import Board, board
from _tables import BASELINE, filter_rows, leaderboard, metric_label, split_labels, to_csv
from suite.reports._common import scope_text, statistics_lines
from suite.reports.style import style
from suite.verdict_names import VERDICTS

COLUMNS = {  # display column -> config; order is the display order
    "dataset": st.column_config.TextColumn("Dataset"),
    "variant": st.column_config.TextColumn("Variant", help="Canonical spec; a baseline's row shows it plain."),
    "setting": st.column_config.TextColumn(
        "Setting",
        width="medium",
        help="What sets this baseline's split or recipe apart, when it has several; its variants follow it.",
    ),
    "verdict_text": st.column_config.TextColumn(
        "Verdict", width="medium", help="As `suite compare` words it; refused: see Why."
    ),
    "gain": st.column_config.NumberColumn(
        "Gain", format="%+.4g", help="Variant − baseline, metric units, > 0 is better."
    ),
    "ci95": st.column_config.TextColumn(
        "95% CI", help="Of the gain; corrected resampled t, matches the two-sided test."
    ),
    "p_text": st.column_config.TextColumn("p (Holm)", help="Two-sided, Holm-adjusted within the family."),
    "p_gain": st.column_config.TextColumn("P(>δ)", help="Posterior P(gain > δ), correlated Bayesian t-test."),
    "posterior": st.column_config.TextColumn(
        "P(>δ / ≈ / <−δ)", help="P(gain > δ) / P(|gain| < δ) / P(gain < −δ)."
    ),
    "folds_won": st.column_config.TextColumn("Folds won"),
    "family_text": st.column_config.TextColumn("Family", help="The Holm family and its size (comparisons)."),
    "metric": st.column_config.TextColumn("Metric"),
    "mean_sd": st.column_config.TextColumn("Mean ± SD", help="Over the paired (fold, seed) runs, metric units."),
    "runs": st.column_config.TextColumn("Folds×seeds"),
    "params_m": st.column_config.NumberColumn("Params (M)", format="%.3f"),
    "params_added_pct": st.column_config.NumberColumn("+Params %", format="%+.2f"),
    "gmacs": st.column_config.NumberColumn("GMACs", format="%.4g", help="fvcore, batch 1, recipe image size."),
    "gmacs_added_pct": st.column_config.NumberColumn("+GMACs %", format="%+.2f"),
    "latency_ms": st.column_config.NumberColumn("Latency (ms, batch 1)", format="%.3g"),
    "latency_added": st.column_config.TextColumn(
        "Latency added",
        help="Paired difference to the baseline timed interleaved with it, ± the half-width of its bootstrap 95% "
        "interval where recorded; 'unreliable' instead of a cost when that interval is wider than the difference.",
    ),
    "latency_device": st.column_config.TextColumn("Timed on"),
    "baseline": st.column_config.TextColumn("Baseline"),
    "module": st.column_config.TextColumn("Module"),
    "points": st.column_config.TextColumn("Points"),
    "reason": st.column_config.TextColumn("Why", width="large", help="Why a comparison was refused."),
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


def _display(table: pd.DataFrame) -> pd.DataFrame:
    shown = table.copy()
    shown["params_m"] = pd.to_numeric(shown["params"], errors="coerce") / 1e6
    shown["metric"] = shown["metric"].map(metric_label)
    return shown[list(COLUMNS)]


def _verdict_styles(verdicts: pd.Series) -> list[str]:
    looks = [style(verdict) for verdict in verdicts]
    return [f"background-color: {look.background}; color: {look.colour}; font-weight: 600" for look in looks]


def _statistics(view: Board, table: pd.DataFrame) -> None:
    """The report's own statement of the test, family, rules and units, for each section shown."""
    st.caption(scope_text(view.report))
    shown = set(zip(table["dataset"], table["metric"]))
    sections = [s for s in view.report.sections if (s.dataset, s.metric) in shown]
    with st.expander("How to read the verdicts: test, family, rules, units"):
        for section in sections:
            st.markdown(f"**{section.title}**\n\n" + "\n".join(f"- {line}" for line in statistics_lines(section)))


view = board()
if view is None:
    st.stop()

st.title("Leaderboard")
table = leaderboard(view.report, view.runs, view.metric)
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
    " ".join(f":{style(v).badge}-badge[{style(v).mark} {v}: {counts.get(v, 0)}]" for v in VERDICTS)
    + f" — {int((shown['verdict'] != BASELINE).sum())} variant(s), {int((shown['verdict'] == BASELINE).sum())} "
    "baseline setting(s)"
)
verdicts = shown["verdict"].reset_index(drop=True)
st.dataframe(
    _display(shown).reset_index(drop=True).style.apply(lambda _: _verdict_styles(verdicts), subset=["verdict_text"]),
    column_config=COLUMNS,
    hide_index=True,
    height="content",  # every row on the page, no scrolling inside the table
    placeholder="—",
    key="leaderboard",
)
_statistics(view, shown)
st.download_button("Download CSV", to_csv(shown), file_name="suite-leaderboard.csv", mime="text/csv")
if not view.failed.empty:
    with st.expander(f"{len(view.failed)} failed run(s): a comparison that needs one is refused (see Why)"):
        st.dataframe(view.failed[["dataset", "spec", "fold", "seed", "error"]], hide_index=True)
