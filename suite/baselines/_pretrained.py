"""Pretrained weights into a baseline: every key checked by name and shape, the exceptions listed.

Every baseline builder that takes ``pretrained`` calls ``load_pretrained`` on the plain network it
built, before ``suite.build`` inserts anything. The file (``suite.baselines._weights_file``) first goes
through the library's checkpoint filter where there is one (timm's ``checkpoint_filter_fn`` for ViT and
Swin resamples the patch embedding, position embedding and relative position tables to the network's
input size), then is matched key by key against the network (or its ``target`` part, e.g. the U-Net's
encoder):

- every key of the network must be in the file with the same shape, except
  - the classifier head (``WeightsLayout.head``): kept at its fresh initialisation when the file's has
    another class count or the file has none;
  - the first convolution with another number of input channels: adapted by timm's
    ``adapt_input_conv`` (for grey images the RGB filters are summed);
  - the stem, when the baseline reshaped it for small images (the ResNets' CIFAR stem): kept fresh;
  - BatchNorm's ``num_batches_tracked`` counters, which hold no weights;
- the file may hold head keys the network lacks (an ImageNet classifier offered to an encoder): unused;
- anything else (a key the network lacks, a key the file lacks, another shape) is one line naming the
  key, the shapes and the fix.

What was not loaded as it is, ``WeightsLoad``, rides on the model (``model.loaded_weights``) and goes
into the run's provenance together with the inserted modules' parameters.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from suite.baselines._weights_file import file_sha256, read_state_dict, weights_file
from suite.errors import SuiteError

COUNTERS = ("num_batches_tracked",)  # state_dict entries that are counters, not weights


@dataclass(frozen=True)
class WeightsLayout:
    """What the loader must know of a baseline's state dict."""

    head: tuple[str, ...]  # key prefixes of the classifier head ("fc", "head")
    first_conv: str  # key prefix of the convolution that reads the image ("conv1", "patch_embed.proj")
    reshaped_stem: bool = False  # the baseline swapped the stem for small images: its shape no longer fits
    adapt: Callable[[dict, nn.Module], dict] | None = None  # the library's checkpoint filter


@dataclass
class WeightsLoad:
    """Which weights a network took from a file, and which it did not."""

    source: str  # the file
    sha256: str
    loaded: int  # state dict entries copied from the file
    reinitialised: list[str] = field(default_factory=list)  # network keys kept fresh (head, reshaped stem)
    adapted: list[str] = field(default_factory=list)  # keys resampled or channel-adapted to fit
    unused: list[str] = field(default_factory=list)  # file keys of a head the network does not have

    def to_dict(self) -> dict:
        return asdict(self)


def load_pretrained(
    model: nn.Module, value: object, baseline: str, layout: WeightsLayout, target: nn.Module | None = None
) -> nn.Module:
    """Load the weights ``value`` (``model.pretrained``: false, true or a path) names into ``target``
    (default: the whole ``model``) and record what happened on ``model.loaded_weights``. On the meta
    device the keys and shapes are checked and nothing is copied."""
    path = weights_file(baseline, value)
    if path is None:
        return model
    target = model if target is None else target
    own = target.state_dict()
    with torch.device("cpu"):  # the file's tensors stay real even while the network is built on meta
        state = read_state_dict(path)
        adapted = []
        if layout.adapt is not None:
            before = {key: tensor.shape for key, tensor in state.items()}
            state = layout.adapt(state, target)
            adapted = [key for key, tensor in state.items() if key in before and before[key] != tensor.shape]
        tensors, load = _match(state, own, layout, path, baseline)
    load.adapted = sorted({*adapted, *load.adapted})
    if not any(tensor.is_meta for tensor in own.values()):
        with torch.no_grad():
            target.load_state_dict(tensors, strict=False)
    model.loaded_weights = load
    return model


def _under(key: str, prefixes: tuple[str, ...]) -> bool:
    return any(key == prefix or key.startswith(prefix + ".") for prefix in prefixes)


def _match(
    state: dict, own: dict, layout: WeightsLayout, path: Path, baseline: str
) -> tuple[dict, WeightsLoad]:
    """The file's tensors that go into the network, and the record; raises on the first misfit."""
    tensors, load = {}, WeightsLoad(str(path), file_sha256(path), 0)
    extra = [key for key in state if key not in own]
    load.unused = [key for key in extra if _under(key, layout.head)]
    problems = [f"the file has key {key!r}, which the network lacks" for key in extra if key not in load.unused]
    for key, mine in own.items():
        theirs = state.get(key)
        if theirs is None:
            if _under(key, layout.head):
                load.reinitialised.append(key)
            elif not key.endswith(COUNTERS):
                problems.append(f"the network's key {key!r} is not in the file")
        elif theirs.shape == mine.shape:
            tensors[key] = theirs
        elif _under(key, layout.head):
            load.reinitialised.append(key)
        elif key == f"{layout.first_conv}.weight" and _other_input_channels(theirs.shape, mine.shape):
            from timm.models import adapt_input_conv

            tensors[key] = adapt_input_conv(mine.shape[1], theirs)
            load.adapted.append(key)
        elif layout.reshaped_stem and _under(key, (layout.first_conv,)):
            load.reinitialised.append(key)
        else:
            problems.append(f"key {key!r} is {tuple(theirs.shape)} in the file but {tuple(mine.shape)} in the network")
    if problems:
        raise SuiteError(
            f"{path.name} does not fit {baseline} as built: {problems[0]} ({len(problems)} misfit{'s' if len(problems) > 1 else ''}); load a "
            f"state dict of the plain {baseline} (nothing inserted) saved with the same model.* settings "
            "(width, widths, embed_dim, ...) and image size, or the file of this baseline"
        )
    load.loaded = len(tensors)
    return tensors, load


def _other_input_channels(theirs: torch.Size, mine: torch.Size) -> bool:
    """The same convolution but for the number of image channels it reads."""
    return len(theirs) == len(mine) == 4 and theirs[0] == mine[0] and theirs[2:] == mine[2:]
