"""Variant page: one variant against its baseline, fold by fold: the verdict with its p, posterior, the rule's
MDE and family; image by image on the same validation images; every metric, and the official test split
apart from the verdict; then curves, resolved spec, cost, recipe and provenance (failed runs included)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from _charts import learning_curves, paired_plot, per_image_distribution, per_image_pairs
from _data import VARIANT_TARGET, board
from _metric_tables import percentiles, spec_metrics
from _spec import insertions, papers, placements
from _tables import axis_title
from suite import _stats
from suite.capacity import CapacityMatch
from suite.errors import SuiteError
from suite.metric_catalog import metric_info
from suite.per_sample import PERCENTILES, paired
from suite.reports import _format
from suite.reports._common import TEST_NOTE, TEST_TITLE, capacity_cell, family_label, verdict_text
from suite.reports.model import Section
from suite.verdict import Comparison

view = board()
if view is None:
    st.stop()

st.title("Variant")
choices: list[tuple[Comparison, str, Section]] = [  # (comparison, setting label, section), in the report's order
    (comp, setting.label, section)
    for section in view.report.sections
    for setting in section.settings
    for comp in setting.comparisons
]
if not choices:
    st.info("No variant has been compared with its baseline yet: run one, e.g. `suite run --variant unet+se`.")
    st.stop()


def _choice_label(index: int) -> str:
    comp, setting, _ = choices[index]
    return f"{comp.variant}  ·  {comp.dataset}" + (f"  ·  {setting}" if setting else "")


target = st.session_state.pop(VARIANT_TARGET, None)  # sent by the Studies page
opened = [i for i, (c, _, _) in enumerate(choices) if (c.variant, c.dataset, c.recipe_hash) == target]
if opened:
    st.session_state["variant_choice"] = opened[0]
chosen = st.selectbox("Variant", range(len(choices)), format_func=_choice_label, key="variant_choice")
comp, setting, section = choices[chosen]
metric, column = comp.metric, f"val_{comp.metric}"
unit = metric_info(metric).unit
title = axis_title(metric)
everything = pd.concat([view.runs, view.failed], ignore_index=True)
same_cell = (everything["dataset"] == comp.dataset) & (everything["manifest_hash"] == comp.manifest_hash)
same_cell &= everything["recipe_hash"] == comp.recipe_hash
variant_all = everything[same_cell & (everything["spec"] == comp.variant)]
baseline_all = everything[same_cell & (everything["spec"] == comp.baseline)]
variant_runs = variant_all[variant_all["status"] == "done"]
baseline_runs = baseline_all[baseline_all["status"] == "done"]

summary = st.columns(4)
summary[0].metric("Verdict", verdict_text(comp))
if comp.has_stats:
    summary[1].metric(
        f"Gain ({unit})",
        _format.value(comp.gain, metric, signed=True),
        help=f"95% CI {_format.ci(comp.ci95, metric)}, δ = ±{_format.value(comp.delta, metric)}",
    )
    summary[2].metric("p (two-sided, Holm)", _format.p_value(comp.shown_p), help=f"unadjusted {_format.p_value(comp.p)}")
    summary[3].metric("Folds won", _format.folds_won(comp))
    if comp.control is not None:
        control = CapacityMatch.from_dict(comp.control)
        st.markdown(f"**Against its capacity-matched control** `{control.control}`: {capacity_cell(comp)}")
        st.caption(f"Capacity control: {control.describe()}; Holm within {comp.capacity.family if comp.capacity else '–'}.")
    posterior = st.columns(4)
    posterior[0].metric("P(gain > δ)", _format.probability(comp.prob_above_delta))
    posterior[1].metric("P(|gain| < δ)", _format.probability(comp.prob_within_delta))
    posterior[2].metric("P(gain < −δ)", _format.probability(comp.prob_below_delta))
    posterior[3].metric(
        "MDE of the rule",
        _format.value(comp.mde, metric),
        help=f"The true gain at which the rule says holds with probability {_stats.POWER:g}, "
        f"at the observed fold sd, k = {comp.n_folds} and a family of {comp.family_size}.",
    )
    st.caption(
        f"95% CI of the gain {_format.ci(comp.ci95, metric)} ({unit}); posterior of the correlated Bayesian t-test "
        f"(Corani & Benavoli 2015) with δ = ±{_format.value(comp.delta, metric)}; MDE {_format.value(comp.mde, metric)} "
        f"at {comp.n_folds} folds × {comp.n_seeds} seed(s) in a family of {comp.family_size}."
    )
    if comp.se_floored:
        st.caption(
            f"Standard error floored at the metric's resolution (one validation sample): "
            f"{_format.value(comp.se_floor, metric)}; the fold differences alone would have given less."
        )
    else:
        st.caption(f"Standard error {comp.se:.3g} from the fold differences (not floored at the metric's resolution).")
if comp.reason is not None:
    st.warning(f"Refused, no statistics: {comp.reason}")
st.caption(f"Family: {family_label(comp.family, comp.family_size)}" + (f". Setting: {setting}." if setting else "."))

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
if not pairs.empty:
    left.altair_chart(paired_plot(pairs, title), width="stretch")
right.dataframe(
    pairs,
    hide_index=True,
    column_config={
        "baseline": st.column_config.NumberColumn("baseline", format="%.4g", help=comp.baseline),
        "variant": st.column_config.NumberColumn("variant", format="%.4g", help=comp.variant),
        "difference": st.column_config.NumberColumn("variant − baseline", format="%+.4g"),
    },
)
st.caption(
    f"{title} on each validation fold of baseline `{comp.baseline}` and variant `{comp.variant}`; "
    "one line per (fold, seed) run pair sharing split, init, order and augmentation seeds. "
    "The verdict averages seeds within a fold first."
    + (" Cells with a failed run have no pair here; the runs below name them." if len(pairs) < len(variant_all) else "")
)

st.subheader("Per image")
image_pairs = paired(baseline_runs, variant_runs, metric)
summary = next((i.summary for i in section.per_image if i.variant == comp.variant and i.setting == setting), None)
if summary is None:
    st.info(f"These runs stored no per-image {title}: runs made before per-image values were kept have none.")
else:
    left, right = st.columns(2)
    left.altair_chart(per_image_distribution(image_pairs, title), width="stretch")
    right.altair_chart(per_image_pairs(image_pairs, title), width="stretch")
    st.dataframe(
        percentiles(summary),
        hide_index=True,
        key="per_image_percentiles",
        column_config={f"p{p}": st.column_config.NumberColumn(f"p{p}", format="%.4g") for p in PERCENTILES},
    )
    st.caption(
        f"{title} of each of the {summary.images} validation images under the baseline and the variant, on the "
        "same fold with the same seeds (an image's seeds averaged). Left: the two distributions; right: one point "
        f"per image, the dashed line where nothing changed. The variant did better on {summary.better}, worse on "
        f"{summary.worse} and the same on {summary.tied} images ({metric_info(metric).direction})."
    )

st.subheader("Every metric")
validation = spec_metrics(section.validation, comp, setting)
st.dataframe(validation, hide_index=True, key="validation_metrics")
st.caption("Mean ± sd over folds × seeds of the last epoch's validation metrics; the verdict tests one of them.")
test = spec_metrics(section.test, comp, setting)
if test.empty:
    st.caption("No official test split was scored: the dataset has none, or these runs predate it.")
else:
    st.markdown(f"**{TEST_TITLE}**")
    st.dataframe(test, hide_index=True, key="test_results")
    st.caption(TEST_NOTE)

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
        left.altair_chart(learning_curves(curves, column, f"validation {title}"), width="stretch")
    if "train_loss" in curves:
        right.altair_chart(learning_curves(curves, "train_loss", "training loss (recipe's loss)"), width="stretch")
else:
    st.info("These runs stored no per-epoch curves.")

st.subheader("Resolved spec")
recipe = variant_all["recipe"].iloc[0] if not variant_all.empty else {}
st.code(comp.variant, language=None)
try:
    st.dataframe(placements(comp.variant, comp.dataset, recipe), hide_index=True, key="placements")
    st.caption(f"As built for {comp.dataset} at {recipe['image_size']} px with the stored recipe.")
except (SuiteError, KeyError) as err:
    st.dataframe(insertions(comp.variant), hide_index=True, key="placements")
    st.caption(f"Channels not shown: the variant cannot be rebuilt here ({err}).")
for line in papers(comp.variant):
    st.caption(line)
cost = {
    "params added": _format.params_added(comp),
    "GMACs added (fvcore, batch 1)": _format.gmacs_added(comp),
    f"latency added (batch 1, {comp.latency_device or 'unrecorded device'})": _format.latency_added(comp),
}
st.caption(" · ".join(f"{name}: {text}" for name, text in cost.items() if text != "–"))
if comp.latency_reliable is False:
    st.caption(
        "The latency added is unreliable: the 95% interval of the paired difference is wider than the difference "
        "itself, so it is machine noise, not a cost of the module."
    )

left, right = st.columns(2)
with left:
    st.subheader("Recipe")
    st.json(recipe, expanded=1)
with right:
    st.subheader("Provenance")
    runs_table = pd.concat([baseline_all, variant_all])
    if not variant_all.empty:
        first = variant_all.iloc[0]
        st.json({"device": first["device"], **first["provenance"]}, expanded=1)
        st.caption(f"Shown: fold {first['fold']}, seed {first['seed']} of the variant; every run below.")
    commits = runs_table["provenance"].map(lambda p: p.get("git_commit") if isinstance(p, dict) else None)
    runs_table = runs_table.assign(git_commit=commits)
    st.dataframe(
        runs_table[["spec", "fold", "seed", "status", "error", "device", "git_commit", "wall_s", "finished_at"]],
        hide_index=True,
        column_config={"wall_s": st.column_config.NumberColumn("wall (s)", format="%.1f")},
        key="variant_runs",
    )
