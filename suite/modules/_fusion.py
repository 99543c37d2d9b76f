"""Shared step of the fusion modules: bring the decoder features to the skip's spatial size."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def match_size(decoder: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
    """``decoder`` resized (bilinear) to ``skip``'s H x W; returned unchanged when they already match."""
    if decoder.shape[-2:] == skip.shape[-2:]:
        return decoder
    return F.interpolate(decoder, size=skip.shape[-2:], mode="bilinear", align_corners=False)
