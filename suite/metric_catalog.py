"""What each validation metric is: its scale, unit, direction, default practical margin, resolution, the
library that computes it and what it gives for empty masks.

One table for every part that shows or tests a metric (the verdict, the reports, the dashboard), so a
metric reads the same everywhere and its direction is decided once. Accuracy, macro F1 and the expected
calibration error are stored in percent (0-100), so their gains are percentage points; Dice, IoU, NSD
and clDice are fractions (0-1); HD95 is in pixels of the mask as scored (at the recipe's image size)
and, where the dataset card gives the pixel spacing, in millimetres too (``hd95_mm``).

Empty masks (segmentation, per image, after the prediction is thresholded and both masks are cut to
the valid region): when prediction and reference are both empty, every metric scores a perfect value
(Dice = IoU = NSD = clDice = 1, HD95 = 0); when exactly one is empty, the overlap metrics score 0 and
HD95 the image diagonal (the largest distance two pixels of the image can have; MONAI would give an
infinite or undefined distance, which no verdict can average).

A metric not in the table (a custom one in a store) is shown "as stored", higher taken as better, and
has no default margin: the verdict then asks for ``--delta``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricInfo:
    name: str
    label: str  # for captions and axis titles: "Dice", "macro F1"
    unit: str  # "%" (stored 0-100), "fraction 0-1", "px", "mm", or "as stored"
    higher_is_better: bool = True
    default_delta: float | None = None  # region of practical equivalence, in the metric's unit
    span: float | None = None  # max - min of the metric for one sample (100 for %, 1 for fractions)
    discrete: bool = False  # a fold mean moves in whole-sample steps (accuracy: each sample right or wrong)
    implementation: str = ""  # the library call that computes it (its version is in each run's provenance)
    package: str = ""  # the distribution whose version the runs record for it
    empty: str = ""  # segmentation: the value for an empty prediction and/or reference

    @property
    def decimals(self) -> int | None:
        """2 for percent and pixel metrics (91.23, 3.61), 4 for fractions and anything else (0.8123);
        None for millimetres: 4 significant digits, since a pixel may be microns (EM) or a millimetre (CT)."""
        return {"%": 2, "px": 2, "mm": None}.get(self.unit, 4)

    @property
    def direction(self) -> str:
        return "higher is better" if self.higher_is_better else "lower is better"

    @property
    def unit_text(self) -> str:
        """How the metric and its gains are measured, for captions."""
        if self.unit == "%":
            return f"{self.name} in % (0-100, {self.direction}); gains in percentage points"
        if self.unit == "px":
            return f"{self.name} in pixels of the mask as scored, at the recipe's image size ({self.direction}); gains in pixels"
        if self.unit == "mm":
            return f"{self.name} in millimetres, from the card's pixel spacing ({self.direction}); gains in mm"
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


_OVERLAP_EMPTY = "1 when prediction and reference are both empty, 0 when only one is"
_DISTANCE_EMPTY = "0 when prediction and reference are both empty, the image diagonal when only one is"

METRIC_CATALOG: dict[str, MetricInfo] = {
    info.name: info
    for info in (
        MetricInfo("accuracy", "accuracy", "%", default_delta=0.5, span=100.0, discrete=True,
                   implementation="torchmetrics MulticlassAccuracy (micro, top-1)", package="torchmetrics"),
        MetricInfo("macro_f1", "macro F1", "%", default_delta=0.5, span=100.0, discrete=True,
                   implementation="torchmetrics MulticlassF1Score (macro)", package="torchmetrics"),
        MetricInfo("ece", "ECE", "%", higher_is_better=False, default_delta=0.5, span=100.0,
                   implementation="torchmetrics MulticlassCalibrationError (15 equal-width bins, L1) on softmax "
                   "probabilities", package="torchmetrics"),
        MetricInfo("dice", "Dice", "fraction 0-1", default_delta=0.01, span=1.0,
                   implementation="torchmetrics binary_stat_scores per image (threshold 0.5)",
                   package="torchmetrics", empty=_OVERLAP_EMPTY),
        MetricInfo("iou", "IoU", "fraction 0-1", default_delta=0.01, span=1.0,
                   implementation="torchmetrics binary_stat_scores per image (threshold 0.5)",
                   package="torchmetrics", empty=_OVERLAP_EMPTY),
        MetricInfo("hd95", "HD95", "px", higher_is_better=False, default_delta=1.0,
                   implementation="MONAI compute_hausdorff_distance (percentile 95, Euclidean, per image)",
                   package="monai", empty=_DISTANCE_EMPTY),
        MetricInfo("hd95_mm", "HD95 (mm)", "mm", higher_is_better=False,
                   implementation="MONAI compute_hausdorff_distance (percentile 95, Euclidean, per image, "
                   "with the card's pixel spacing)", package="monai", empty=_DISTANCE_EMPTY),
        MetricInfo("nsd", "NSD", "fraction 0-1", default_delta=0.01, span=1.0,
                   implementation="MONAI compute_surface_dice (normalised surface Dice at the card's tolerance, "
                   "per image)", package="monai", empty=_OVERLAP_EMPTY),
        MetricInfo("cldice", "clDice", "fraction 0-1", default_delta=0.01, span=1.0,
                   implementation="scikit-image skeletonize and the clDice formula of Shit et al. 2021 (CVPR), "
                   "per image", package="scikit-image", empty=_OVERLAP_EMPTY),
    )
}  # fmt: skip
DEFAULT_METRIC_BY_TASK = {"cls": "accuracy", "seg": "dice"}


def metric_info(name: str) -> MetricInfo:
    """The catalog entry of ``name``, or an "as stored", higher-is-better entry with no default delta."""
    return METRIC_CATALOG.get(name) or MetricInfo(name, name, "as stored")

