"""Hand-drawn inline SVG plots for the HTML report (no scripts, no CDN): a forest plot of the gains and
a gain-versus-cost scatter, both with the +-delta band of practical equivalence."""

from __future__ import annotations

import math
from html import escape

from suite.metric_catalog import metric_info
from suite.reports import _format
from suite.reports.model import Section
from suite.reports.style import style
from suite.verdict import Comparison

GREY, BAND, INK = "#8c959f", "#eaeef2", "#57606a"


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high], about ``count`` of them."""
    span = high - low if high > low else abs(high) or 1.0
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    return [round(first + i * step, 10) for i in range(int((high - first) / step + 1e-9) + 1)]


class _Scale:
    """Linear map from data values to pixels, padded around the values it must show."""

    def __init__(self, values: list[float], start: float, stop: float):
        low, high = min(values), max(values)
        pad = 0.06 * (high - low or abs(high) or 1.0)
        self.low, self.high = low - pad, high + pad
        self.start, self.stop = start, stop

    def __call__(self, value: float) -> float:
        return self.start + (value - self.low) / (self.high - self.low) * (self.stop - self.start)


def _open(width: float, height: float, title: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="system-ui, sans-serif" font-size="12" role="img">',
        f"<title>{escape(title)}</title>",
    ]


def _line(x1: float, y1: float, x2: float, y2: float, color: str = INK, width: float = 1, dashed: bool = False) -> str:
    dash = ' stroke-dasharray="4 3"' if dashed else ""
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{color}" stroke-width="{width}"{dash}/>'
    )


def _text(x: float, y: float, text: str, anchor: str = "start", extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{escape(text)}</text>'


def _dot(x: float, y: float, color: str, tooltip: str) -> str:
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{color}"><title>{escape(tooltip)}</title></circle>'


def _band(x: float, y: float, width: float, height: float) -> str:
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" fill="{BAND}"/>'


def _axis_values(comps: list[Comparison], delta: float) -> list[float]:
    values = [0.0, -1.5 * delta, 1.5 * delta]
    for comp in comps:
        values += list(comp.ci95 or ()) + comp.fold_gains
    return values


def _unit(metric: str) -> str:
    info = metric_info(metric)
    unit = "percentage points" if info.unit == "%" else info.unit
    return f"{unit}; > 0 is better, {info.direction}"


def _x_axis(x: _Scale, y: float, title: str) -> list[str]:
    parts = [_line(x.start, y, x.stop, y)]
    for tick in nice_ticks(x.low, x.high):
        parts += [_line(x(tick), y, x(tick), y + 4), _text(x(tick), y + 16, f"{tick:g}", "middle")]
    return parts + [_text((x.start + x.stop) / 2, y + 34, title, "middle")]


def forest_plot(section: Section) -> str:
    """One row per variant: gain (dot), 90% CI (thick), 95% CI (thin), per-fold gains (rings)."""
    comps, metric, delta = section.comparisons, section.metric, section.delta
    label_w, plot_w, text_w, row_h, top, bottom = 250, 420, 230, 28, 16, 46
    plot_bottom = top + row_h * len(comps)
    x = _Scale(_axis_values(comps, delta), label_w, label_w + plot_w)
    parts = _open(label_w + plot_w + text_w, plot_bottom + bottom, f"Gain over the baseline on {section.title}")
    parts += [
        _band(x(-delta), top, x(delta) - x(-delta), row_h * len(comps)),
        _line(x(0), top, x(0), plot_bottom, GREY, dashed=True),
    ]
    for row, comp in enumerate(comps):
        y = top + row_h * row + row_h / 2
        parts.append(_text(label_w - 8, y + 4, comp.variant, "end"))
        if not comp.has_stats:
            parts.append(
                _text(label_w + 8, y + 4, "refused: " + (comp.reason or "").split(":")[0], extra=f' fill="{INK}"')
            )
            continue
        color = style(comp.verdict).colour
        parts += [
            _line(x(comp.ci95[0]), y, x(comp.ci95[1]), y, color, 1.5),
            _line(x(comp.ci90[0]), y, x(comp.ci90[1]), y, color, 4),
        ]
        parts += [f'<circle cx="{x(g):.1f}" cy="{y:.1f}" r="3" fill="none" stroke="{GREY}"/>' for g in comp.fold_gains]
        parts.append(_dot(x(comp.gain), y, color, f"{comp.variant}: gain {_format.gain_ci(comp)}, {comp.verdict}"))
        parts.append(_text(label_w + plot_w + 10, y + 4, _format.gain_ci(comp)))
    band = f"grey band: ±delta = ±{_format.value(delta, metric)}"
    parts += _x_axis(x, plot_bottom, f"gain in {metric} ({_unit(metric)}); {band}")
    return "\n".join(parts + ["</svg>"])


def cost_plot(section: Section) -> str | None:
    """Gain (with 95% CI) against parameters added in % of the baseline; None when nothing has both."""
    comps = [c for c in section.comparisons if c.has_stats and c.params_added_pct is not None]
    if not comps:
        return None
    metric, delta = section.metric, section.delta
    left, plot_w, plot_h, top, width = 70, 520, 200, 16, 820
    x = _Scale([0.0] + [c.params_added_pct for c in comps], left, left + plot_w)
    y = _Scale(_axis_values(comps, delta), top + plot_h, top)
    parts = _open(width, top + plot_h + 50, f"Gain against parameters added on {section.title}")
    parts += [
        _band(left, y(delta), plot_w, y(-delta) - y(delta)),
        _line(left, y(0), left + plot_w, y(0), GREY, dashed=True),
        _line(left, top, left, top + plot_h),
    ]
    parts += [_text(left - 6, y(tick) + 4, f"{tick:g}", "end") for tick in nice_ticks(y.low, y.high)]
    middle = top + plot_h / 2
    parts.append(_text(14, middle, f"gain ({_unit(metric)})", "middle", f' transform="rotate(-90 14 {middle:.1f})"'))
    for comp in comps:
        px, color = x(comp.params_added_pct), style(comp.verdict).colour
        tooltip = f"{comp.variant}: {_format.params_added(comp)} params, gain {_format.gain_ci(comp)}"
        parts += [
            _line(px, y(comp.ci95[0]), px, y(comp.ci95[1]), color, 1.5),
            _dot(px, y(comp.gain), color, tooltip),
            _text(px + 8, y(comp.gain) + 4, comp.variant),
        ]
    parts += _x_axis(x, top + plot_h, "parameters added (% of the baseline's)")
    return "\n".join(parts + ["</svg>"])
