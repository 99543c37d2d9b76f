"""Variant page: one variant against its baseline, fold by fold, with curves, resolved spec, recipe, provenance."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from _charts import learning_curves, paired_plot
from _data import board
from _spec import insertions, papers, placements
from _tables import metric_label, metric_unit
from suite.errors import SuiteError

view = board()
if view is None:
    st.stop()

st.title("Variant")
if view.comparisons.empty:
    st.info("No variant has been compared with its baseline yet: run one, e.g. `suite run --variant unet+se`.")
    st.stop()

choices = view.comparisons.to_dict("records")
chosen = st.selectbox(
    "Variant",
    range(len(choices)),
    format_func=lambda i: f"{choices[i]['variant']}  ·  {choices[i]['dataset']}",
    key="variant_choice",
)
item = choices[chosen]
metric, column = item["metric"], f"val_{item['metric']}"
axis_title = f"{metric_label(metric)} ({metric_unit(metric)})"
same_cell = (view.runs["dataset"] == item["dataset"]) & (view.runs["manifest_hash"] == item["manifest_hash"])
same_cell &= view.runs["recipe_hash"] == item["recipe_hash"]
variant_runs = view.runs[same_cell & (view.runs["spec"] == item["variant"])]
baseline_runs = view.runs[same_cell & (view.runs["spec"] == item["baseline"])]

summary = st.columns(4)
summary[0].metric("Verdict", item["verdict"])
if pd.notna(item["gain"]):
    summary[1].metric(
        f"Gain ({metric_unit(metric)})",
        f"{item['gain']:+.4g}",
        help=f"95% CI [{item['ci95_lo']:+.4g}, {item['ci95_hi']:+.4g}], δ = ±{item['delta']:g}",
    )
    summary[2].metric("Folds won", f"{int(item['folds_won'])}/{item['n_folds']}")
    summary[3].metric("p (one-sided, Holm)", f"{item['p_shown']:.3g}")
if pd.notna(item["reason"]):
    st.warning(f"No verdict statistics: {item['reason']}")
elif item["verdict"] == "inconclusive" and pd.notna(item["mde"]):
    st.caption(f"Minimal detectable effect at 80% power: {item['mde']:.4g} ({metric_unit(metric)}).")

st.subheader("Per fold")
pairs = (
    pd.concat(
        [
            baseline_runs.groupby(["fold", "seed"])[column].mean().rename("baseline"),
            variant_runs.groupby(["fold", "seed"])[column].mean().rename("variant"),
        ],
        axis=1,
    )
    .dropna()
    .reset_index()
)
pairs["difference"] = pairs["variant"] - pairs["baseline"]
left, right = st.columns([3, 2])
left.altair_chart(paired_plot(pairs, axis_title), width="stretch")
right.dataframe(
    pairs,
    hide_index=True,
    column_config={
        "baseline": st.column_config.NumberColumn("baseline", format="%.4g", help=item["baseline"]),
        "variant": st.column_config.NumberColumn("variant", format="%.4g", help=item["variant"]),
        "difference": st.column_config.NumberColumn("variant − baseline", format="%+.4g"),
    },
)
st.caption(
    f"{axis_title} on each validation fold of baseline `{item['baseline']}` and variant `{item['variant']}`; "
    "one line per (fold, seed) run pair sharing split, init, order and augmentation seeds. "
    "The verdict averages seeds within a fold first."
)

st.subheader("Learning curves")
curve_rows = []
for model, runs in (("baseline", baseline_runs), ("variant", variant_runs)):
    for run in runs.itertuples():
        epochs = run.curves.get("epoch", [])
        for name in ("train_loss", column):
            values = run.curves.get(name, [])
            curve_rows += [
                {"model": model, "run": f"fold {run.fold}, seed {run.seed}", "epoch": e, "name": name, "value": v}
                for e, v in zip(epochs, values)
            ]
if curve_rows:
    curves = pd.DataFrame(curve_rows).pivot_table(index=["model", "run", "epoch"], columns="name", values="value")
    curves = curves.reset_index()
    left, right = st.columns(2)
    if column in curves:
        left.altair_chart(learning_curves(curves, column, f"validation {axis_title}"), width="stretch")
    if "train_loss" in curves:
        right.altair_chart(learning_curves(curves, "train_loss", "training loss (recipe's loss)"), width="stretch")
else:
    st.info("These runs stored no per-epoch curves.")

st.subheader("Resolved spec")
recipe = variant_runs["recipe"].iloc[0]
st.code(item["variant"], language=None)
try:
    st.dataframe(placements(item["variant"], item["dataset"], recipe), hide_index=True, key="placements")
    st.caption(f"As built for {item['dataset']} at {recipe['image_size']} px with the stored recipe.")
except SuiteError as err:
    st.dataframe(insertions(item["variant"]), hide_index=True, key="placements")
    st.caption(f"Channels not shown: the variant cannot be rebuilt here ({err}).")
for line in papers(item["variant"]):
    st.caption(line)
cost = {
    "params": ("{:,.0f}", item["params"]),
    "params added": ("{:+,.0f}", item["params_added"]),
    "GMACs (fvcore, batch 1)": ("{:.4g}", item["gmacs"]),
    "GMACs added": ("{:+.4g}", item["gmacs_added"]),
    f"latency (median ms, batch 1, {item['latency_device'] or 'unrecorded device'})": ("{:.3g}", item["latency_ms"]),
}
st.caption(" · ".join(f"{name}: {form.format(value)}" for name, (form, value) in cost.items() if pd.notna(value)))

left, right = st.columns(2)
with left:
    st.subheader("Recipe")
    st.json(recipe, expanded=1)
with right:
    st.subheader("Provenance")
    first = variant_runs.iloc[0]
    st.json({"device": first["device"], **first["provenance"]}, expanded=1)
    st.caption(f"Shown: fold {first['fold']}, seed {first['seed']} of the variant; every run below.")
    runs_table = pd.concat([baseline_runs, variant_runs])
    runs_table = runs_table.assign(git_commit=runs_table["provenance"].map(lambda p: p.get("git_commit")))
    st.dataframe(
        runs_table[["spec", "fold", "seed", "device", "git_commit", "wall_s", "finished_at"]],
        hide_index=True,
        column_config={"wall_s": st.column_config.NumberColumn("wall (s)", format="%.1f")},
    )
