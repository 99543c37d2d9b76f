"""Gains page: a forest plot of every variant's gain with its 95% CI, and cost against gain with the Pareto front."""

from __future__ import annotations

import streamlit as st

from _charts import cost_gain_scatter, forest_plot
from _data import board
from _tables import metric_label, metric_unit, pareto_front

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
gain_title = f"gain in {metric_label(metric)} ({metric_unit(metric)}), variant − baseline"

st.subheader("Gain with 95% CI")
st.altair_chart(forest_plot(rows, delta, gain_title), width="stretch")
st.caption(
    f"Point: mean of the per-fold gains (seeds averaged within a fold); bar: 95% CI of the corrected resampled "
    f"t-test; shaded band: ±δ = ±{delta:g} ({metric_unit(metric)}), gains inside it are of no practical size; "
    "dashed line: no change."
)

st.subheader("Cost against gain")
cost = st.selectbox("Cost", list(COSTS), format_func=COSTS.get, key="gains_cost")
rows["pareto"] = pareto_front(rows[cost], rows["gain"])
measured = rows[rows[cost].notna()]
if measured.empty:
    st.info(f"No variant of {dataset} has {COSTS[cost]} recorded (latency needs variant and baseline on one device).")
else:
    st.altair_chart(cost_gain_scatter(measured, cost, COSTS[cost], gain_title), width="stretch")
    front = ", ".join(measured.loc[measured["pareto"], "variant"].sort_values())
    st.caption(f"Pareto front (no other variant has more gain for less or equal cost): {front}.")
