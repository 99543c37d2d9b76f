"""Studies page: every study of the store (grid, sweep, ablation, small-data trial) and one of them as a unit.

What ``suite compare --study NAME`` prints, drawn: a sweep as a heatmap (position x module/mode, colour =
gain, mark = verdict, hover = CI and params added), an ablation as effect bars with their CIs (main
effects, interactions, leave-one-out drops), a small-data trial as gain against train fraction with its
CI band. A cell or a variant opens on the Variant page.
"""

from __future__ import annotations

import streamlit as st

from _charts import effect_bars, fraction_curve, sweep_heatmap
from _data import VARIANT_TARGET, board, load_studies, load_study_report
from _studies import comparisons_frame, curve_frame, effects_frame, position_frame, studies_table
from _tables import axis_title
from suite.errors import SuiteError
from suite.reports import _study_text
from suite.reports._common import scope_text

view = board()
if view is None:
    st.stop()

st.title("Studies")
studies = load_studies(view.path, view.stamp)
if not studies:
    st.info(
        "No study in the store yet. `suite run` records each grid as one; `suite sweep unet+se --points all`, "
        "`suite ablate unet+se@encoder+cbam@decoder` and `suite run ... --train-fraction 0.1,0.25,1` record theirs."
    )
    st.stop()

st.dataframe(studies_table(studies), hide_index=True, key="studies_table")
newest_first = list(reversed(studies))
chosen = st.selectbox(
    "Study", range(len(newest_first)), format_func=lambda i: f"{newest_first[i].name} ({newest_first[i].kind})",
    key="study_choice",
)  # fmt: skip
study = newest_first[chosen]
try:
    report = load_study_report(view.path, view.stamp, study.id, view.metric, view.delta)
except SuiteError as err:
    st.error(str(err))
    st.stop()
shown = report.study
st.subheader(shown.title)
st.caption(shown.describe())
st.caption(scope_text(report))


def _open_variant(frame, key: str, selected: list[dict] | None = None) -> None:
    """A picker (and the chart's selection) of the study's variants, and a button to the Variant page."""
    labels = {(r.variant, r.dataset, r.recipe_hash): f"{r.label} · {r.verdict}" for r in frame.itertuples()}
    options = list(labels)
    wanted = (selected[0].get("variant"), selected[0].get("recipe_hash")) if selected else None
    if wanted is not None:  # a clicked cell picks its variant
        st.session_state[key] = next((i for i, (v, _, recipe) in enumerate(options) if (v, recipe) == wanted), 0)
    pick = st.selectbox("Variant", range(len(options)), format_func=lambda i: labels[options[i]], key=key)
    if st.button("Open on the Variant page", key=f"{key}_open"):
        st.session_state[VARIANT_TARGET] = options[pick]
        st.switch_page("views/variant.py")


for number, table in enumerate(shown.positions):
    st.markdown(f"#### {_study_text.position_title(table)}")
    cells = position_frame(table)
    if cells.empty:
        st.info("No cell of this sweep has results yet.")
        continue
    delta = next(comp.delta for comp in table.cells.values())
    event = st.altair_chart(
        sweep_heatmap(cells, table.columns, delta, f"gain in {axis_title(table.metric)}"),
        width="stretch", on_select="rerun", key=f"heatmap_{number}",
    )  # fmt: skip
    st.caption(_study_text.position_caption(table))
    for line in table.summaries():
        st.markdown(f"**{line}**")
    if table.skipped:
        st.caption("Skipped: " + "; ".join(table.skipped))
    _open_variant(cells, f"sweep_variant_{number}", event.selection.get("cell") if event else None)

for number, table in enumerate(shown.effects):
    st.markdown(f"#### {_study_text.effects_title(table)}")
    effects = effects_frame(table)
    tested = effects[effects["gain"].notna()]
    if tested.empty:
        st.warning(next((e.reason for e in table.effects if e.reason), "No effect could be tested yet."))
    else:
        chart = effect_bars(tested, table.effects[0].delta, f"effect on {axis_title(table.metric)}")
        st.altair_chart(chart, width="stretch")
    columns = {"effect_label": "effect", "ci_text": "gain [95% CI]", "p_text": "p (Holm)", "reading": "verdict"}
    st.dataframe(effects[list(columns)].rename(columns=columns), hide_index=True, key=f"effects_{number}")
    st.caption(_study_text.effects_caption(table))
    for line in table.summaries():
        st.markdown(f"**{line}**")
    subsets = [c for c in report.comparisons if c.variant in table.subsets and c.dataset == table.dataset]
    if subsets:
        _open_variant(comparisons_frame(subsets), f"ablation_variant_{number}")

for number, curves in enumerate(shown.curve_groups()):
    st.markdown(f"#### {_study_text.curves_title(curves)}")
    points = curve_frame(curves)
    delta = curves[0].points[0].comparison.delta
    chart = fraction_curve(points[points["gain"].notna()], delta, f"gain in {axis_title(curves[0].metric)}")
    st.altair_chart(chart, width="stretch")
    st.caption(_study_text.curves_caption(curves))
    for curve in curves:
        st.markdown(f"**{curve.summary()}**")
    _open_variant(points, f"fraction_variant_{number}")

if not (shown.positions or shown.effects or shown.curves) and report.comparisons:
    st.caption("A grid study: its variants against their baselines, in the study's family.")
    frame = comparisons_frame(report.comparisons)
    columns = {"label": "variant", "ci_text": "gain [95% CI]", "p_text": "p (Holm)", "verdict": "verdict"}
    st.dataframe(frame[list(columns)].rename(columns=columns), hide_index=True, key="grid_rows")
    _open_variant(frame, "grid_variant")
