"""Altair charts of the dashboard: paired per-fold plot, per-image distributions and pairs, learning curves,
forest plot, cost-vs-gain scatter, and the Studies page's sweep heatmap, ablation effect bars and
gain-versus-fraction curve.

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


def sweep_heatmap(cells: pd.DataFrame, columns: list[str], delta: float, gain_title: str) -> alt.LayerChart:
    """Position x module/mode: colour = gain (diverging, centred on 0, saturated at the largest |gain| or 3 delta),
    text = verdict mark, hover = CI, verdict, p and params added; a click selects the cell (``cell``)."""
    limit = max(3 * delta, float(cells["gain"].abs().max()) if cells["gain"].notna().any() else 0.0)
    order = cells.sort_values("order")["position"].drop_duplicates().tolist()
    pick = alt.selection_point(name="cell", fields=["variant", "recipe_hash"])
    base = alt.Chart(cells).encode(
        x=alt.X("column:N", sort=columns, title="module : mode", axis=alt.Axis(labelAngle=0, orient="top")),
        y=alt.Y("position:N", sort=order, title="position (shallow to deep; /stride)"),
    )
    rect = base.mark_rect(stroke="#d0d7de", strokeWidth=1).encode(
        color=alt.Color(
            "gain:Q", title=gain_title, scale=alt.Scale(scheme="redblue", domain=[-limit, limit], domainMid=0)
        ),
        opacity=alt.condition(pick, alt.value(1.0), alt.value(0.55)),
        tooltip=[
            alt.Tooltip("label:N", title="variant"),
            alt.Tooltip("ci_text:N", title="gain [95% CI]"),
            alt.Tooltip("verdict:N", title="verdict"),
            alt.Tooltip("p_text:N", title="p (two-sided, Holm)"),
            alt.Tooltip("params_text:N", title="params added"),
        ],
    ).add_params(pick)
    text = base.mark_text(fontSize=18, fontWeight="bold").encode(text="mark:N", color=alt.value("#1f2328"))
    return (rect + text).properties(height=alt.Step(44))  # one 44 px band per position


def effect_bars(effects: pd.DataFrame, delta: float, gain_title: str) -> alt.LayerChart:
    """One bar per effect (main, interaction, leave-one-out) with its 95% CI, coloured by verdict, over ±delta."""
    order = effects["effect_label"].tolist()
    y = alt.Y("effect_label:N", sort=order, title=None, axis=alt.Axis(labelLimit=360))
    band = (
        alt.Chart(pd.DataFrame({"lo": [-delta], "hi": [delta]}))
        .mark_rect(color="#98a2b3", opacity=0.25)
        .encode(x="lo:Q", x2="hi:Q")
    )
    zero = alt.Chart(pd.DataFrame({"x": [0.0]})).mark_rule(color="#475467").encode(x="x:Q")
    tooltip = [
        alt.Tooltip("effect_label:N", title="effect"),
        alt.Tooltip("ci_text:N", title="gain [95% CI]"),
        alt.Tooltip("p_text:N", title="p (two-sided, Holm)"),
        alt.Tooltip("reading:N", title="verdict"),
    ]
    bars = alt.Chart(effects).mark_bar(height=14, opacity=0.75).encode(
        x=alt.X("gain:Q", title=gain_title), y=y, color=alt.Color("verdict:N", scale=_VERDICT_SCALE, title="verdict"),
        strokeDash=alt.StrokeDash("kind:N", title="effect"), tooltip=tooltip,
    )  # fmt: skip
    interval = alt.Chart(effects).mark_rule(strokeWidth=2, color="#1f2328").encode(x="ci95_lo:Q", x2="ci95_hi:Q", y=y)
    return (band + zero + bars + interval).properties(height=60 + 30 * len(order))


def fraction_curve(points: pd.DataFrame, delta: float, gain_title: str) -> alt.LayerChart:
    """Gain against train fraction per variant: line, 95% CI band, points coloured by verdict, ±delta band."""
    x = alt.X("fraction:Q", title="train fraction (share of each fold's training part)", scale=alt.Scale(domain=[0, 1]))
    band = (
        alt.Chart(pd.DataFrame({"lo": [-delta], "hi": [delta]}))
        .mark_rect(color="#98a2b3", opacity=0.2)
        .encode(y="lo:Q", y2="hi:Q")
    )
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#475467", strokeDash=[4, 3]).encode(y="y:Q")
    ci = alt.Chart(points).mark_area(opacity=0.18).encode(x=x, y=alt.Y("ci95_lo:Q", title=gain_title), y2="ci95_hi:Q",
                                                          color=alt.Color("label:N", title="variant"))  # fmt: skip
    line = alt.Chart(points).mark_line().encode(x=x, y="gain:Q", color=alt.Color("label:N", title="variant"))
    dots = alt.Chart(points).mark_point(filled=True, size=90).encode(
        x=x, y="gain:Q", fill=alt.Fill("verdict:N", scale=_VERDICT_SCALE, title="verdict"),
        color=alt.Color("label:N", title="variant"),
        tooltip=[alt.Tooltip("label:N", title="variant"), alt.Tooltip("fraction:Q", title="train fraction"),
                 alt.Tooltip("n_train:Q", title="training images per fold", format=".0f"),
                 alt.Tooltip("ci_text:N", title="gain [95% CI]"), alt.Tooltip("verdict:N", title="verdict"),
                 alt.Tooltip("p_text:N", title="p (two-sided, Holm)")],
    )  # fmt: skip
    return (band + zero + ci + line + dots).properties(height=340)
