"""Across datasets page: does a module help in general? What ``suite compare --across-datasets`` prints.

It renders ``build_across`` of the board's report: per module its verdict mark and gain / delta on every
task side by side, wins, median gain / delta and the Wilcoxon test; the average ranks with Friedman's
test; and autorank's critical-difference diagram (Demšar 2006) when there are 5 or more tasks, else a
chart of the average ranks that says why no critical difference is drawn.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from _charts import mean_ranks
from _data import board
from suite.errors import SuiteError
from suite.reports import _format
from suite.reports.across import CELL_NOTE, MIN_DATASETS, AcrossReport, Ranking
from suite.reports.style import VERDICT_STYLES, style


def _side_by_side(across: AcrossReport) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The table of marks and gains / delta, and the cell styles of the task columns (verdict colours)."""
    rows, looks = [], []
    for insertion in across.insertions:
        by_task = {task.name: task for task in insertion.tasks}
        cells = {name: by_task[name].cell if name in by_task else "" for name in across.task_names}
        looks.append({name: _css(by_task[name].verdict) if name in by_task else "" for name in across.task_names})
        rows.append(
            {
                "module": insertion.label,
                **cells,
                "wins": f"{insertion.wins}/{insertion.tested}",
                "median gain/δ": insertion.median_gain_in_deltas,
                "Wilcoxon p": _format.p_value(insertion.wilcoxon_p),
                "note": insertion.note,
            }
        )
    table = pd.DataFrame(rows)
    styles = pd.DataFrame(looks, index=table.index).reindex(columns=table.columns, fill_value="")
    return table, styles


def _css(verdict: str) -> str:
    look = style(verdict)
    return f"background-color: {look.background}; color: {look.colour}; font-weight: 600"


def _ranking_line(ranking: Ranking) -> str:
    parts = [ranking.method]
    if ranking.omnibus_p is not None:
        parts.append(f"{ranking.omnibus} p {_format.p_value(ranking.omnibus_p)}")
    if ranking.critical_difference is not None:
        parts.append(f"Nemenyi critical difference {ranking.critical_difference:.2f} (ranks further apart differ at 0.05)")
    if ranking.dropped:
        parts.append(f"left out to keep the block complete: {', '.join(ranking.dropped)}")
    return "; ".join(parts) + f". Datasets: {', '.join(ranking.datasets)}."


def _diagram(across: AcrossReport, ranking: Ranking) -> None:
    """autorank's critical-difference diagram, or the average ranks with the reason there is none."""
    if ranking.critical_difference is not None and across.autorank_result is not None:
        from autorank import plot_stats
        from matplotlib.figure import Figure

        figure = Figure(figsize=(7.5, 1.2 + 0.3 * len(ranking.populations)))
        plot_stats(across.autorank_result, allow_insignificant=True, ax=figure.subplots())
        st.pyplot(figure, width="content")
        caption = (
            "Critical-difference diagram (Demšar 2006), drawn by autorank: average ranks on the axis (1 = best); "
            f"populations joined by a bar do not differ at 0.05 (Nemenyi, CD = {ranking.critical_difference:.2f})."
        )
        if ranking.omnibus_p is not None and ranking.omnibus_p >= 0.05:
            caption += (
                f" {ranking.omnibus}'s test finds no difference (p {_format.p_value(ranking.omnibus_p)}), so no pair differs; "
                "the bars are drawn for reference."
            )
        st.caption(caption)
        return
    ranks = pd.DataFrame({"population": list(ranking.mean_ranks), "mean_rank": list(ranking.mean_ranks.values())})
    st.altair_chart(mean_ranks(ranks, ranking.no_critical_difference), width="stretch")


view = board()
if view is None:
    st.stop()

st.title("Across datasets")
try:
    across = view.across()
except SuiteError as err:
    st.info(str(err))
    st.stop()

st.subheader("Verdict and gain / δ per task")
table, styles = _side_by_side(across)
st.dataframe(
    table.style.apply(lambda _: styles, axis=None),
    hide_index=True,
    column_config={
        "median gain/δ": st.column_config.NumberColumn("median gain/δ", format="%+.2f"),
        "note": st.column_config.TextColumn("note", width="large"),
    },
    key="across_table",
)
marks = " · ".join(f"{look.mark} {label}" for label, look in VERDICT_STYLES.items())
st.caption(f"{CELL_NOTE} A task is a dataset and the baseline the module went into. Marks: {marks}.")
if across.skipped:
    st.caption(f"On fewer than {MIN_DATASETS} datasets, not compared across: {', '.join(across.skipped)}.")

st.subheader("Average ranks")
ranking = across.ranking
if ranking is None:
    st.info(f"No complete block of {MIN_DATASETS} datasets shared by the modules: no ranking.")
    st.stop()
st.dataframe(
    pd.DataFrame(
        sorted(ranking.mean_ranks.items(), key=lambda item: item[1]), columns=["population", "mean rank"]
    ),
    hide_index=True,
    column_config={"mean rank": st.column_config.NumberColumn("mean rank (1 = best)", format="%.2f")},
    key="across_ranks",
)
st.caption(_ranking_line(ranking))
_diagram(across, ranking)
