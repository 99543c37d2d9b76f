"""How each verdict looks in every view: its mark, colours and wording, defined once.

The terminal, markdown, LaTeX, HTML/SVG and the dashboard all read this table, so "small loss" is the
same orange with the same mark everywhere. Metric names, units and directions come from
``suite.metric_catalog``; number formatting from ``suite.reports._format``.
"""

from __future__ import annotations

from dataclasses import dataclass

from suite import _stats
from suite import verdict_names as names


@dataclass(frozen=True)
class VerdictStyle:
    mark: str  # one symbol for plots and compact tables
    latex: str  # the mark in LaTeX (math mode)
    emoji: str  # markdown (GitHub job summaries)
    terminal: str  # rich style
    colour: str  # text / plot colour, hex
    background: str  # table-cell background, hex
    badge: str  # Streamlit badge colour name


VERDICT_STYLES: dict[str, VerdictStyle] = {
    names.HOLDS_BEYOND_DELTA: VerdictStyle("⇑", r"$\Uparrow$", "✅✅", "bold green", "#116329", "#b7ebc6", "green"),
    names.HOLDS: VerdictStyle("↑", r"$\uparrow$", "✅", "green", "#1a7f37", "#d3f2dc", "green"),
    names.NO_PRACTICAL_GAIN: VerdictStyle("≈", r"$\approx$", "➖", "cyan", "#57606a", "#e4e7ec", "gray"),
    names.INCONCLUSIVE: VerdictStyle("?", "?", "❔", "yellow", "#9a6700", "#fdf0c8", "orange"),
    names.SMALL_LOSS: VerdictStyle("↘", r"$\searrow$", "🔻", "dark_orange", "#bc4c00", "#fde2cf", "violet"),
    names.WORSE: VerdictStyle("↓", r"$\downarrow$", "❌", "bold red", "#cf222e", "#fbdada", "red"),
}
BASELINE_STYLE = VerdictStyle("·", "", "", "dim", "#344054", "#ffffff", "gray")

VERDICT_MEANINGS = {  # the rules of ``suite._stats.classify`` in words
    names.HOLDS_BEYOND_DELTA: f"holds, and the gain exceeds delta too (one-sided test at {_stats.SIDE_ALPHA:g} after Holm: "
    "the 95% CI's lower end clears delta)",
    names.HOLDS: f"Holm-adjusted two-sided p < {_stats.ALPHA:g}, gain >= delta, won in >= k-1 of k folds",
    names.NO_PRACTICAL_GAIN: f"the {_stats.EQUIVALENCE_LEVEL:.0%} CI lies inside (-delta, +delta)",
    names.INCONCLUSIVE: "anything else, shown with the MDE of the rule; or refused (the reason says why)",
    names.SMALL_LOSS: f"Holm-adjusted two-sided p < {_stats.ALPHA:g}, a loss smaller than delta, lost in >= k-1 of k folds",
    names.WORSE: "the mirror of holds: significant, loss >= delta, lost in >= k-1 of k folds",
}


def style(verdict: str) -> VerdictStyle:
    return VERDICT_STYLES.get(verdict, BASELINE_STYLE)
