"""Gains page: a forest plot of every variant's gain with its 95% CI, and cost against gain with the Pareto front."""

from __future__ import annotations

import streamlit as st

from _charts import cost_gain_scatter, forest_plot
from _data import board
from _tables import axis_title, pareto_front
from suite.metric_catalog import metric_info
from suite.reports import _format

COSTS = {  # column -> axis title with its unit
    "gmacs_added": "added GMACs (fvcore, batch 1)",
    "gmacs_added_pct": "added GMACs (% of the baseline)",
    "latency_added_pct": "added latency (% of the baseline, batch 1)",
    "params_added_pct": "added parameters (% of the baseline)",
}

view = board()
if view is None:
    st.stop()

st.title("Gains")
tested = view.comparisons[view.comparisons["gain"].notna()] if not view.comparisons.empty else view.comparisons
if tested.empty:
    st.info("No variant has a tested gain yet (a verdict needs k ≥ 3 complete folds for variant and baseline).")
    st.stop()

datasets = tested["dataset"].value_counts().sort_index().sort_values(ascending=False, kind="stable").index.tolist()
dataset = st.selectbox("Dataset", datasets, key="gains_dataset")
rows = tested[tested["dataset"] == dataset].copy()
metric = rows["metric"].iloc[0]
delta = float(rows["delta"].iloc[0])
gain_title = f"gain in {axis_title(metric)}, variant − baseline"

st.subheader("Gain with 95% CI")
st.altair_chart(forest_plot(rows, delta, gain_title), width="stretch")
st.caption(
    f"Point: mean of the per-fold gains (seeds averaged within a fold); bar: 95% CI of the corrected resampled "
    f"t-test, the interval of the two-sided test; shaded band: ±δ = ±{_format.value(delta, metric)} "
    f"({metric_info(metric).unit}), gains inside it are of no practical size; "
    "dashed line: no change."
)

st.subheader("Cost against gain")
cost = st.selectbox("Cost", list(COSTS), format_func=COSTS.get, key="gains_cost")
noisy = rows["latency_reliable"].eq(False) & (cost == "latency_added_pct")  # within its spread: not a cost
rows["pareto"] = pareto_front(rows.loc[~noisy, cost], rows.loc[~noisy, "gain"]).reindex(rows.index, fill_value=False)
measured = rows[rows[cost].notna() & ~noisy]
if measured.empty:
    st.info(f"No variant of {dataset} has {COSTS[cost]} to plot (latency needs variant and baseline on one device).")
else:
    st.altair_chart(cost_gain_scatter(measured, cost, COSTS[cost], gain_title), width="stretch")
if noisy.any():
    left_out = ", ".join(rows.loc[noisy, "label"].sort_values())
    st.caption(f"Left out, their latency added lies within its spread (unreliable): {left_out}.")
if not measured.empty:
    front = ", ".join(measured.loc[measured["pareto"], "label"].sort_values())
    st.caption(f"Pareto front (no other variant has more gain for less or equal cost): {front}.")
