"""``shapes`` (SYNTHETIC): random ellipses and polygons on textured noise, for binary segmentation.

240 RGB images, generated deterministically from seed 0 at the requested size (default 64 px) with
numpy's legacy ``RandomState`` (whose streams numpy keeps fixed across versions). Background: muted,
smooth colour noise plus fine grain; foreground: one to three shapes of a saturated random colour with
a finer grain of their own. The shapes are plain to see at 32 px, so a small U-Net learns them in a
few CPU minutes and a demo's baseline is good enough for a module to help or hurt. For smoke tests and
demos only: it says nothing about real data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from suite.datasets._cards import Card
from suite.datasets._scan import Scan, Split
from suite.datasets.readers import dataset

COUNT = 240
SEED = 0


def _smooth_noise(rng: np.random.RandomState, size: int) -> np.ndarray:
    """(3, size, size) low-frequency colour noise in [0, 1]."""
    coarse = torch.from_numpy(rng.rand(1, 3, 6, 6).astype(np.float32))
    return (
        torch.nn.functional.interpolate(coarse, size=(size, size), mode="bicubic", align_corners=False)[0]
        .clamp(0, 1)
        .numpy()
    )


def _saturated_colour(rng: np.random.RandomState) -> np.ndarray:
    """(3, 1, 1): a random hue at full saturation and a random brightness in [0.6, 1]."""
    hue = rng.uniform(0, 6)
    ramp = np.clip(np.abs((hue - np.array([0.0, 2.0, 4.0]) + 3) % 6 - 3) - 1, 0, 1)  # HSV-to-RGB, S = 1
    return (rng.uniform(0.6, 1.0) * (1 - ramp)).reshape(3, 1, 1)


def _shape_mask(rng: np.random.RandomState, size: int) -> np.ndarray:
    """bool (size, size): one ellipse or polygon at a random place, in relative units of the image."""
    center = rng.uniform(0.2, 0.8, 2) * size
    radius = rng.uniform(0.12, 0.25) * size
    if rng.rand() < 0.5:
        axes = radius * rng.uniform(0.5, 1.0, 2)
        angle = rng.uniform(0, np.pi)
        y, x = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
        dx, dy = x - center[0], y - center[1]
        u = dx * np.cos(angle) + dy * np.sin(angle)
        v = -dx * np.sin(angle) + dy * np.cos(angle)
        return (u / axes[0]) ** 2 + (v / axes[1]) ** 2 <= 1.0
    corners = rng.randint(3, 7)
    angles = np.sort(rng.uniform(0, 2 * np.pi, corners))
    lengths = radius * rng.uniform(0.6, 1.0, corners)
    points = [(float(center[0] + r * np.cos(a)), float(center[1] + r * np.sin(a))) for a, r in zip(angles, lengths)]
    canvas = Image.new("L", (size, size), 0)
    ImageDraw.Draw(canvas).polygon(points, fill=1)
    return np.asarray(canvas, dtype=bool)


def generate(count: int, size: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images (count, 3, size, size) and uint8 masks (count, size, size) in {0, 1}."""
    rng = np.random.RandomState(seed)
    images = np.empty((count, 3, size, size), np.uint8)
    masks = np.zeros((count, size, size), np.uint8)
    for i in range(count):
        background = 0.5 + 0.5 * (_smooth_noise(rng, size) - 0.5) + 0.3 * (rng.rand(3, size, size) - 0.5)
        picture = background
        for _ in range(rng.randint(1, 4)):
            shape = _shape_mask(rng, size)
            colour = _saturated_colour(rng)
            grain = rng.rand(1, size, size) - 0.5
            picture = np.where(shape[None], colour + 0.2 * grain, picture)
            masks[i] |= shape.astype(np.uint8)
        images[i] = np.clip(np.rint(picture * 255.0), 0, 255).astype(np.uint8)
    return images, masks


@dataset("shapes")
def read_shapes(root: Path, card: Card) -> Scan:
    def decode(size: int) -> dict[str, Split]:
        images, masks = generate(COUNT, size)
        ids = [f"{i:03d}" for i in range(COUNT)]
        return {"train": Split(images=torch.from_numpy(images), targets=torch.from_numpy(masks), ids=ids)}

    return Scan(root, decode=decode, version=f"2-seed{SEED}-n{COUNT}")
