"""What each validation metric is: its scale, unit, direction, default practical margin and resolution.

One table for every part that shows or tests a metric (the verdict, the reports, the dashboard), so a
metric reads the same everywhere and its direction is decided once. Accuracy and macro F1 are stored in
percent (0-100), so their gains are percentage points; Dice and IoU are fractions (0-1).

A metric not in the table (a custom one in a store) is shown "as stored", higher taken as better, and
has no default margin: the verdict then asks for ``--delta``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricInfo:
    name: str
    label: str  # for captions and axis titles: "Dice", "macro F1"
    unit: str  # "%" (stored 0-100), "fraction 0-1", or "as stored"
    higher_is_better: bool = True
    default_delta: float | None = None  # region of practical equivalence, in the metric's unit
    span: float | None = None  # max - min of the metric for one sample (100 for %, 1 for fractions)
    discrete: bool = False  # a fold mean moves in whole-sample steps (accuracy: each sample right or wrong)

    @property
    def decimals(self) -> int:
        """2 for percent metrics (91.23), 4 for fractions and anything else (0.8123)."""
        return 2 if self.unit == "%" else 4

    @property
    def direction(self) -> str:
        return "higher is better" if self.higher_is_better else "lower is better"

    @property
    def unit_text(self) -> str:
        """How the metric and its gains are measured, for captions."""
        if self.unit == "%":
            return f"{self.name} in % (0-100, {self.direction}); gains in percentage points"
        if self.unit == "as stored":
            return f"{self.name} as stored ({self.direction}); gains in the same unit"
        return f"{self.name} as a {self.unit} ({self.direction}); gains in the same unit"

    def resolution(self, n_val: float) -> float | None:
        """One validation sample's weight in a fold mean: ``span / n_val`` (None without a span).

        The standard error of a gain is never taken below what ``se_floor`` derives from it, so identical
        gains on every fold are not read as zero variance."""
        if self.span is None or not n_val or n_val != n_val or n_val <= 0:
            return None
        return self.span / n_val

    def se_floor(self, n_val: float, fold_sd: float) -> float:
        """The least standard error a gain is given: the resolution for a discrete metric, whose fold means
        move in whole-sample steps; for a per-image average (Dice) only when the fold differences are
        exactly equal, which a continuous metric shows only in degenerate cases (one image per fold)."""
        resolution = self.resolution(n_val)
        if resolution is None or not (self.discrete or fold_sd == 0):
            return 0.0
        return resolution


METRIC_CATALOG: dict[str, MetricInfo] = {
    info.name: info
    for info in (
        MetricInfo("accuracy", "accuracy", "%", default_delta=0.5, span=100.0, discrete=True),
        MetricInfo("macro_f1", "macro F1", "%", default_delta=0.5, span=100.0, discrete=True),
        MetricInfo("dice", "Dice", "fraction 0-1", default_delta=0.01, span=1.0),
        MetricInfo("iou", "IoU", "fraction 0-1", default_delta=0.01, span=1.0),
    )
}
DEFAULT_METRIC_BY_TASK = {"cls": "accuracy", "seg": "dice"}


def metric_info(name: str) -> MetricInfo:
    """The catalog entry of ``name``, or an "as stored", higher-is-better entry with no default delta."""
    return METRIC_CATALOG.get(name) or MetricInfo(name, name, "as stored")
