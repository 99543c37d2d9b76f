"""The validation metrics beyond Dice and IoU: HD95 (px and mm), NSD and clDice of binary masks, ECE of
classifiers, their empty-mask conventions (generated from the metric catalog) and the per-sample values.

HD95 is checked against a plain scipy computation of the same definition (boundary pixels, Euclidean
distance transform, 95th percentile of each direction, the larger of the two), so a mistake in how masks,
spacing or batches reach MONAI shows; NSD and clDice are checked on shapes whose answer is known.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import ndimage

from suite.metric_catalog import METRIC_CATALOG
from suite.train.metrics import ClassificationScores, SegmentationScores, final_metric_names
from suite.train.surface_metrics import SurfaceScoring, cldice, hd95, metric_names, nsd

SIZE = 48
SCORING = SurfaceScoring(tolerance_px=2.0, spacing_mm=(0.5, 0.25), tubular=True)  # every boundary metric
SEG_METRICS = final_metric_names("seg", SCORING)


def logits_of(masks: np.ndarray) -> torch.Tensor:
    """Logits (B, 1, H, W) whose thresholded prediction is ``masks``."""
    return torch.from_numpy(np.where(masks, 8.0, -8.0)).float()[:, None]


def scores(pred: np.ndarray, ref: np.ndarray, valid: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per-image values of every segmentation metric, through the accumulator training uses."""
    accumulator = SegmentationScores(SCORING)
    target = torch.from_numpy(ref.astype(np.int64))[:, None]
    accumulator.update(logits_of(pred), target, None if valid is None else torch.from_numpy(valid)[:, None])
    return accumulator.per_sample()


def disc(centre: tuple[float, float], radius: float, size: int = SIZE) -> np.ndarray:
    rows, columns = np.mgrid[:size, :size]
    return (rows - centre[0]) ** 2 + (columns - centre[1]) ** 2 <= radius**2


def reference_hd95(pred: np.ndarray, ref: np.ndarray, spacing=(1.0, 1.0)) -> float:
    def border(mask: np.ndarray) -> np.ndarray:
        return mask & ~ndimage.binary_erosion(mask)

    def directed(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.percentile(ndimage.distance_transform_edt(~border(b), sampling=spacing)[border(a)], 95))

    return max(directed(pred, ref), directed(ref, pred))


def test_every_segmentation_metric_is_in_the_catalog_with_its_empty_mask_rule():
    assert set(SEG_METRICS) == {"dice", "iou", "hd95", "hd95_mm", "nsd", "cldice"}
    for name in SEG_METRICS:
        info = METRIC_CATALOG[name]
        assert info.implementation and info.package and info.empty, name
    assert [n for n in SEG_METRICS if not METRIC_CATALOG[n].higher_is_better] == ["hd95", "hd95_mm"]
    assert not METRIC_CATALOG["ece"].higher_is_better and METRIC_CATALOG["ece"].unit == "%"


@pytest.mark.parametrize("name", SEG_METRICS)
def test_empty_mask_conventions(name: str):
    """Both empty: the perfect value. Exactly one empty: the worst finite value (0, or the image diagonal)."""
    empty, blob = np.zeros((1, SIZE, SIZE), bool), disc((20, 20), 6)[None]
    higher = METRIC_CATALOG[name].higher_is_better
    diagonal = math.hypot(SIZE, SIZE) if name == "hd95" else math.hypot(SIZE * 0.5, SIZE * 0.25)
    perfect, worst = (1.0, 0.0) if higher else (0.0, diagonal)
    assert scores(empty, empty)[name] == pytest.approx([perfect])
    assert scores(empty, blob)[name] == pytest.approx([worst])  # nothing predicted, something to find
    assert scores(blob, empty)[name] == pytest.approx([worst])  # something predicted, nothing to find
    assert np.isfinite(scores(blob, blob)[name]).all() and scores(blob, blob)[name] == pytest.approx([perfect])


def test_pixels_outside_the_valid_region_do_not_count():
    ref = disc((24, 24), 10)[None]
    pred = ref | disc((4, 4), 3)[None]  # a false blob in the corner ...
    valid = ~disc((4, 4), 8)[None]  # ... outside the field of view
    inside, everywhere = scores(pred, ref, valid), scores(pred, ref)
    assert inside["hd95"] == pytest.approx([0.0]) and everywhere["hd95"][0] > 0
    assert inside["nsd"] == pytest.approx([1.0]) and everywhere["nsd"][0] < 1


def test_hd95_matches_the_definition_in_pixels_and_in_mm():
    rng = np.random.default_rng(0)
    pred = np.stack([disc(tuple(rng.uniform(14, 34, 2)), rng.uniform(5, 12)) for _ in range(6)])
    ref = np.stack([disc(tuple(rng.uniform(14, 34, 2)), rng.uniform(5, 12)) for _ in range(6)])
    pixels, mm = hd95(pred, ref), hd95(pred, ref, SCORING.spacing_mm)
    assert pixels == pytest.approx([reference_hd95(p, r) for p, r in zip(pred, ref)], rel=1e-6)
    assert mm == pytest.approx([reference_hd95(p, r, SCORING.spacing_mm) for p, r in zip(pred, ref)], rel=1e-6)
    assert len(set(np.round(pixels, 6))) == 6  # six different images, six different distances


def test_hd95_of_a_shift_along_the_rows_is_the_shift_times_the_row_spacing():
    ref = np.zeros((1, SIZE, SIZE), bool)
    ref[0, 10:30, 5:45] = True
    pred = np.roll(ref, 4, axis=1)  # four rows down
    assert hd95(pred, ref) == pytest.approx([4.0])
    assert hd95(pred, ref, (0.5, 0.25)) == pytest.approx([2.0])  # 4 rows x 0.5 mm; columns do not enter


def test_nsd_counts_the_boundary_within_the_tolerance():
    ref = disc((24, 24), 10)[None]
    pred = disc((24, 26), 10)[None]  # two columns to the right
    assert nsd(ref, ref, 1.0) == pytest.approx([1.0])
    assert nsd(pred, ref, 2.0) == pytest.approx([1.0])  # every boundary pixel within 2 px of the other
    tight, loose = nsd(pred, ref, 0.5)[0], nsd(pred, ref, 1.0)[0]
    assert 0.0 < tight < loose < 1.0


def test_cldice_ignores_thickness_and_punishes_a_broken_vessel():
    ref = np.zeros((1, SIZE, SIZE), bool)
    ref[0, 23:26, 4:44] = True  # a vessel three pixels wide
    thick = np.zeros_like(ref)
    thick[0, 21:28, 4:44] = True  # the same vessel drawn seven pixels wide
    broken = ref.copy()
    broken[0, :, 22:26] = False  # the vessel cut in two
    values = scores(np.concatenate([ref, thick, broken]), np.concatenate([ref, ref, ref]))
    assert values["cldice"][:2] == pytest.approx([1.0, 1.0])  # centreline kept: topology is right
    assert values["dice"][1] < 0.65  # while overlap punishes the thickness
    assert values["cldice"][2] < values["cldice"][1] and values["cldice"][2] < 0.95  # the gap costs centreline
    assert cldice(broken, ref)[0] == pytest.approx(values["cldice"][2])


def test_per_image_values_follow_the_images_and_their_mean_is_the_metric():
    rng = np.random.default_rng(1)
    ref = np.stack([disc(tuple(rng.uniform(16, 32, 2)), rng.uniform(6, 10)) for _ in range(5)])
    pred = np.stack([disc(tuple(rng.uniform(16, 32, 2)), rng.uniform(6, 10)) for _ in range(5)])
    accumulator = SegmentationScores(SCORING)
    for part in (slice(0, 2), slice(2, 5)):  # two batches
        accumulator.update(logits_of(pred[part]), torch.from_numpy(ref[part].astype(np.int64))[:, None])
    per_image, means = accumulator.per_sample(), accumulator.compute()
    assert set(per_image) == set(means) == set(SEG_METRICS)
    np.testing.assert_allclose(per_image["hd95"], hd95(pred, ref))
    for name, values in per_image.items():
        assert len(values) == 5 and values.mean() == pytest.approx(means[name]), name


def test_surface_metric_names_follow_the_card():
    assert metric_names(SurfaceScoring(1.0)) == ("hd95", "nsd")
    assert metric_names(SurfaceScoring(1.0, spacing_mm=(1.0, 1.0))) == ("hd95", "nsd", "hd95_mm")
    assert metric_names(SurfaceScoring(1.0, tubular=True)) == ("hd95", "nsd", "cldice")


def test_ece_is_the_gap_between_confidence_and_accuracy():
    """Every sample predicted class 0 with probability 0.9; 70% are class 0: one bin, ECE = |0.9 - 0.7| = 20%."""
    logits = torch.log(torch.tensor([[0.9, 0.05, 0.05]])).repeat(100, 1)
    target = torch.tensor([0] * 70 + [1] * 30)
    accumulator = ClassificationScores(3, torch.device("cpu"))
    for part in (slice(0, 64), slice(64, 100)):
        accumulator.update(logits[part], target[part])
    result = accumulator.compute()
    assert result["ece"] == pytest.approx(20.0, abs=1e-3) and result["accuracy"] == pytest.approx(70.0)
    right = accumulator.per_sample()["accuracy"]
    assert list(right) == [100.0] * 70 + [0.0] * 30


def test_ece_of_a_calibrated_classifier_is_near_zero_and_overconfidence_raises_it():
    """Simulation: labels drawn from the predicted probabilities are calibrated by construction."""
    rng = np.random.default_rng(2)
    probabilities = rng.dirichlet(np.ones(4) * 0.5, size=20_000)
    target = torch.from_numpy(np.array([rng.choice(4, p=p) for p in probabilities]))
    calibrated, overconfident = ClassificationScores(4, torch.device("cpu")), ClassificationScores(4, torch.device("cpu"))
    logits = torch.log(torch.from_numpy(probabilities)).float()
    calibrated.update(logits, target)
    overconfident.update(logits * 4, target)  # same ranking, sharper probabilities
    assert calibrated.compute()["ece"] < 1.5
    assert overconfident.compute()["ece"] > 5 * calibrated.compute()["ece"]
