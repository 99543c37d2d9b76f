"""Boundary and topology metrics of binary masks, one value per image: HD95, NSD and clDice.

- ``hd95``: the 95th percentile of the symmetric surface distances (MONAI's ``compute_hausdorff_distance``
  with ``percentile=95``), in pixels of the mask as scored, or in mm given the pixel spacing.
- ``nsd``: the normalised surface Dice (Nikolov et al. 2021) at a tolerance in pixels (MONAI's
  ``compute_surface_dice``): the share of both boundaries that lies within the tolerance of the other.
- ``cldice``: centreline Dice (Shit et al., "clDice - a novel topology-preserving loss function for
  tubular structure segmentation", CVPR 2021): the harmonic mean of topology precision
  ``|S(P) & L| / |S(P)|`` and topology sensitivity ``|S(L) & P| / |S(L)|``, with the skeletons ``S``
  from scikit-image's ``skeletonize``.

MONAI and scikit-image compute the distances and skeletons; what we add is the empty-mask convention
(``suite.metric_catalog`` states it): both masks empty scores a perfect value (HD95 = 0, NSD = clDice =
1); exactly one empty scores the worst finite value (HD95 = the image diagonal, NSD = clDice = 0), where
MONAI returns NaN. Masks are numpy bool arrays (B, H, W), already cut to the valid region.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from monai.metrics import compute_hausdorff_distance, compute_surface_dice
from skimage.morphology import skeletonize

HD_PERCENTILE = 95


@dataclass(frozen=True)
class SurfaceScoring:
    """What a dataset card asks of the boundary metrics, at the size the masks are scored."""

    tolerance_px: float  # NSD tolerance in pixels of the mask as scored
    spacing_mm: tuple[float, float] | None = None  # (row, column) mm per pixel: HD95 in mm too
    tubular: bool = False  # thin branching structures: clDice too


def _batch(masks: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(masks[:, None].astype(np.float32))


def _monai(function, pred: np.ndarray, ref: np.ndarray, **kwargs) -> np.ndarray:
    """MONAI ``function`` over images where both masks are non-empty, one value per image."""
    with warnings.catch_warnings():  # MONAI deprecates an argument it passes itself (FutureWarning)
        warnings.simplefilter("ignore", FutureWarning)
        values = function(_batch(pred), _batch(ref), include_background=True, **kwargs)
    return values.reshape(len(pred)).double().numpy()


def _with_empty_convention(pred: np.ndarray, ref: np.ndarray, both: float, one: float, compute) -> np.ndarray:
    """``compute(pred, ref)`` where both masks have foreground, ``both`` where neither has, ``one`` elsewhere."""
    has_pred, has_ref = pred.any(axis=(1, 2)), ref.any(axis=(1, 2))
    values = np.where(has_pred | has_ref, one, both).astype(np.float64)
    scored = has_pred & has_ref
    if scored.any():
        values[scored] = compute(pred[scored], ref[scored])
    return values


def hd95(pred: np.ndarray, ref: np.ndarray, spacing_mm: tuple[float, float] | None = None) -> np.ndarray:
    """HD95 per image, in pixels (``spacing_mm`` None) or mm; the image diagonal when one mask is empty."""
    rows, columns = pred.shape[1:]
    row_mm, column_mm = spacing_mm or (1.0, 1.0)
    diagonal = math.hypot(rows * row_mm, columns * column_mm)
    spacing = None if spacing_mm is None else list(spacing_mm)

    def compute(p: np.ndarray, r: np.ndarray) -> np.ndarray:
        return _monai(compute_hausdorff_distance, p, r, percentile=HD_PERCENTILE, spacing=spacing)

    return _with_empty_convention(pred, ref, 0.0, diagonal, compute)


def nsd(pred: np.ndarray, ref: np.ndarray, tolerance_px: float) -> np.ndarray:
    """Normalised surface Dice per image at ``tolerance_px`` pixels, 0-1."""

    def compute(p: np.ndarray, r: np.ndarray) -> np.ndarray:
        return _monai(compute_surface_dice, p, r, class_thresholds=[float(tolerance_px)])

    return _with_empty_convention(pred, ref, 1.0, 0.0, compute)


def _cldice_one(pred: np.ndarray, ref: np.ndarray) -> float:
    pred_skeleton, ref_skeleton = skeletonize(pred), skeletonize(ref)
    precision = (pred_skeleton & ref).sum() / max(int(pred_skeleton.sum()), 1)
    sensitivity = (ref_skeleton & pred).sum() / max(int(ref_skeleton.sum()), 1)
    total = precision + sensitivity
    return float(2 * precision * sensitivity / total) if total > 0 else 0.0


def cldice(pred: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """clDice per image, 0-1."""

    def compute(p: np.ndarray, r: np.ndarray) -> np.ndarray:
        return np.array([_cldice_one(a, b) for a, b in zip(p, r)])

    return _with_empty_convention(pred, ref, 1.0, 0.0, compute)


_SCORERS = {
    "hd95": lambda pred, ref, scoring: hd95(pred, ref),
    "nsd": lambda pred, ref, scoring: nsd(pred, ref, scoring.tolerance_px),
    "hd95_mm": lambda pred, ref, scoring: hd95(pred, ref, scoring.spacing_mm),
    "cldice": lambda pred, ref, scoring: cldice(pred, ref),
}


def metric_names(scoring: SurfaceScoring) -> tuple[str, ...]:
    """``hd95`` and ``nsd`` always; ``hd95_mm`` given a pixel spacing; ``cldice`` for tubular structures."""
    return ("hd95", "nsd") + ("hd95_mm",) * (scoring.spacing_mm is not None) + ("cldice",) * scoring.tubular


def surface_scores(pred: np.ndarray, ref: np.ndarray, scoring: SurfaceScoring) -> dict[str, np.ndarray]:
    """Each of ``metric_names(scoring)`` for each image."""
    return {name: _SCORERS[name](pred, ref, scoring) for name in metric_names(scoring)}
