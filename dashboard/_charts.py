"""Altair charts of the dashboard: paired per-fold plot, per-image distributions and pairs, learning curves,
forest plot, cost-vs-gain scatter.

Each function takes a tidy DataFrame and axis titles that carry the units, and returns a chart; the
pages only call ``st.altair_chart``.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from suite.reports.style import style
from suite.verdict_names import VERDICTS

_VERDICT_SCALE = alt.Scale(domain=list(VERDICTS), range=[style(v).colour for v in VERDICTS])


def paired_plot(pairs: pd.DataFrame, axis_title: str) -> alt.Chart:
    """One line per (fold, seed) from the baseline's value to the variant's; columns fold, seed, baseline, variant."""
    long = pairs.melt(id_vars=["fold", "seed"], value_vars=["baseline", "variant"], var_name="model", value_name="value")
    long["cell"] = "fold " + long["fold"].astype(str) + ", seed " + long["seed"].astype(str)
    return (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("model:N", sort=["baseline", "variant"], title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", title=axis_title, scale=alt.Scale(zero=False)),
            color=alt.Color("fold:N", title="fold"),
            detail="cell:N",
            tooltip=["cell:N", "model:N", alt.Tooltip("value:Q", format=".4g")],
        )
        .properties(height=320)
    )


_OUTCOMES = alt.Scale(domain=["variant better", "variant worse", "tied"], range=["#15803d", "#b42318", "#98a2b3"])


def per_image_distribution(pairs: pd.DataFrame, axis_title: str) -> alt.LayerChart:
    """Baseline and variant values over the same validation images: a box (quartiles, whiskers to the extremes)
    and every image as a point; columns fold, id, baseline, variant."""
    long = pairs.melt(id_vars=["fold", "id"], value_vars=["baseline", "variant"], var_name="model", value_name="value")
    base = alt.Chart(long).encode(
        x=alt.X("model:N", sort=["baseline", "variant"], title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("value:Q", title=axis_title, scale=alt.Scale(zero=False)),
        color=alt.Color("model:N", title=None, legend=None),
    )
    boxes = base.mark_boxplot(extent="min-max", opacity=0.35, size=60)
    points = (
        base.transform_calculate(jitter="random()")
        .mark_circle(size=24, opacity=0.6)
        .encode(xOffset=alt.XOffset("jitter:Q"), tooltip=["fold:N", "id:N", "model:N", alt.Tooltip("value:Q", format=".4g")])
    )
    return (boxes + points).properties(height=320)


def per_image_pairs(pairs: pd.DataFrame, axis_title: str) -> alt.LayerChart:
    """One point per validation image, its baseline value against its variant value, over the line of no change,
    coloured by the sign of ``gain`` (positive = the variant did better, in the metric's own direction)."""
    frame = pairs.assign(outcome=np.select([pairs["gain"] > 0, pairs["gain"] < 0], ["variant better", "variant worse"], "tied"))
    low, high = float(pairs[["baseline", "variant"]].min().min()), float(pairs[["baseline", "variant"]].max().max())
    scale = alt.Scale(domain=[low, high], zero=False, nice=True)
    diagonal = (
        alt.Chart(pd.DataFrame({"baseline": [low, high], "variant": [low, high]}))
        .mark_line(color="#475467", strokeDash=[4, 3])
        .encode(x=alt.X("baseline:Q", scale=scale), y=alt.Y("variant:Q", scale=scale))
    )
    points = (
        alt.Chart(frame)
        .mark_circle(size=36, opacity=0.75)
        .encode(
            x=alt.X("baseline:Q", title=f"baseline: {axis_title}", scale=scale),
            y=alt.Y("variant:Q", title=f"variant: {axis_title}", scale=scale),
            color=alt.Color("outcome:N", scale=_OUTCOMES, title=None),
            tooltip=[
                "fold:N", "id:N", alt.Tooltip("baseline:Q", format=".4g"), alt.Tooltip("variant:Q", format=".4g"),
                alt.Tooltip("gain:Q", title="gain (positive = better)", format="+.4g"),
            ],
        )
    )  # fmt: skip
    return (diagonal + points).properties(height=320)


def learning_curves(curves: pd.DataFrame, value: str, axis_title: str) -> alt.Chart:
    """Per-epoch ``value`` for every run; columns epoch, model (baseline / variant), run, ``value``."""
    return (
        alt.Chart(curves.dropna(subset=[value]))
        .mark_line(point=alt.OverlayMarkDef(size=18), opacity=0.8)
        .encode(
            x=alt.X("epoch:Q", title="epoch", axis=alt.Axis(tickMinStep=1)),
            y=alt.Y(f"{value}:Q", title=axis_title, scale=alt.Scale(zero=False)),
            color=alt.Color("model:N", title=None),
            detail="run:N",
            tooltip=["model:N", "run:N", "epoch:Q", alt.Tooltip(f"{value}:Q", format=".4g")],
        )
        .properties(height=260)
    )


def forest_plot(rows: pd.DataFrame, delta: float, axis_title: str) -> alt.LayerChart:
    """Gain and 95% CI per variant (columns label, gain, ci95_lo, ci95_hi, verdict, verdict_text, p_shown)
    over the ±delta band; ``label`` names the variant and its setting where its baseline has several."""
    order = rows.sort_values("gain", ascending=False)["label"].tolist()
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=320))
    band = (
        alt.Chart(pd.DataFrame({"lo": [-delta], "hi": [delta]}))
        .mark_rect(color="#98a2b3", opacity=0.25)
        .encode(x="lo:Q", x2="hi:Q")
    )
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(color="#475467", strokeDash=[4, 3]).encode(x="x:Q")
    interval = alt.Chart(rows).mark_rule(strokeWidth=2).encode(
        x=alt.X("ci95_lo:Q", title=axis_title), x2="ci95_hi:Q", y=y, color=alt.Color("verdict:N", scale=_VERDICT_SCALE)
    )
    point = (
        alt.Chart(rows)
        .mark_point(filled=True, size=70)
        .encode(
            x="gain:Q",
            y=y,
            color=alt.Color("verdict:N", scale=_VERDICT_SCALE, title="verdict"),
            tooltip=[
                alt.Tooltip("label:N", title="variant"),
                alt.Tooltip("gain:Q", format=".4g"),
                alt.Tooltip("ci95_lo:Q", title="95% CI low", format=".4g"),
                alt.Tooltip("ci95_hi:Q", title="95% CI high", format=".4g"),
                alt.Tooltip("verdict_text:N", title="verdict"),
                alt.Tooltip("p_shown:Q", title="p (two-sided, Holm)", format=".3g"),
            ],
        )
    )
    return (band + zero + interval + point).properties(height=80 + 36 * len(order))  # axis + one band per variant


def cost_gain_scatter(rows: pd.DataFrame, cost: str, cost_title: str, gain_title: str) -> alt.LayerChart:
    """Gain against ``cost`` per variant; rows flagged ``pareto`` are joined by the front line and ringed."""
    base = alt.Chart(rows).encode(
        x=alt.X(f"{cost}:Q", title=cost_title),
        y=alt.Y("gain:Q", title=gain_title),
    )
    points = base.mark_point(filled=True, size=80).encode(
        color=alt.Color("verdict:N", scale=_VERDICT_SCALE, title="verdict"),
        shape=alt.Shape("pareto:N", title="Pareto front", scale=alt.Scale(domain=[True, False], range=["diamond", "circle"])),
        tooltip=[
            alt.Tooltip("label:N", title="variant"),
            alt.Tooltip(f"{cost}:Q", title=cost_title, format=".4g"),
            alt.Tooltip("gain:Q", format=".4g"),
        ],
    )
    front = (
        alt.Chart(rows[rows["pareto"]].sort_values(cost))
        .mark_line(color="#1d4ed8", strokeWidth=2)
        .encode(x=f"{cost}:Q", y="gain:Q", order=f"{cost}:Q")
    )
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#475467", strokeDash=[4, 3]).encode(y="y:Q")
    return (zero + front + points).properties(height=360)


def mean_ranks(ranks: pd.DataFrame, why: str) -> alt.Chart:
    """Average rank per population (columns population, mean_rank; 1 = best), titled with why no critical
    difference is drawn."""
    worst = max(2.0, float(ranks["mean_rank"].max()))
    base = alt.Chart(ranks).encode(
        x=alt.X("mean_rank:Q", title="average rank over the tasks (1 = best)", scale=alt.Scale(domain=[1, worst])),
        y=alt.Y("population:N", sort=alt.EncodingSortField("mean_rank"), title=None),
        tooltip=["population:N", alt.Tooltip("mean_rank:Q", title="average rank", format=".2f")],
    )
    points = base.mark_point(filled=True, size=90, color="#1d4ed8")
    labels = base.mark_text(dy=-12, color="#344054").encode(text=alt.Text("mean_rank:Q", format=".2f"))
    title = alt.TitleParams("Average ranks", subtitle=[f"No critical difference drawn: {why}."], anchor="start")
    return (points + labels).properties(height=60 + 40 * len(ranks), title=title)
