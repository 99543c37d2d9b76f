"""Pretrained weights made by the tests themselves: tiny networks trained or perturbed, saved as state
dicts, and a Hugging Face cache folder laid out as ``huggingface_hub`` lays it out."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import nn

from suite.baselines._weights_file import LibraryWeights
from suite.build import build_variant

TINY_RESNET = dict(task="cls", num_classes=10, in_channels=3, image_size=32, width=8)


def perturbed(model: nn.Module, seed: int = 1) -> nn.Module:
    """Every parameter and BatchNorm statistic moved away from its initial value (as training would)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if tensor.is_floating_point():
                noise = torch.randn(tensor.shape, generator=generator) * 0.1
                tensor.copy_((tensor + noise).abs() + 0.5 if name.endswith("running_var") else tensor + noise)
    return model


def trained_tiny_resnet(steps: int = 3) -> nn.Module:
    """resnet18 at width 8, trained for a few SGD steps on random images (weights and BatchNorm
    statistics both move)."""
    torch.manual_seed(0)
    model = build_variant("resnet18", **TINY_RESNET).model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(steps):
        x, y = torch.randn(8, 3, 32, 32), torch.randint(0, 10, (8,))
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
        optimizer.zero_grad()
    return model.eval()


def save(model_or_state: nn.Module | dict, folder: Path, stem: str) -> dict[str, Path]:
    """The state dict saved as ``stem.pth`` (torch.save) and ``stem.safetensors``."""
    state = model_or_state if isinstance(model_or_state, dict) else model_or_state.state_dict()
    state = {k: v.detach().clone().contiguous() for k, v in state.items()}
    paths = {"pth": folder / f"{stem}.pth", "safetensors": folder / f"{stem}.safetensors"}
    torch.save(state, paths["pth"])
    save_file(state, str(paths["safetensors"]))
    return paths


def place_in_hub_cache(cache: Path, library: LibraryWeights, weights: Path, commit: str = "0" * 40) -> Path:
    """``weights`` copied where ``huggingface_hub`` keeps ``library``'s first file in cache ``cache``
    (refs/main naming the snapshot, or the pinned revision's snapshot)."""
    repo = cache / f"models--{library.repo_id.replace('/', '--')}"
    revision = library.revision or commit
    if library.revision is None:
        (repo / "refs").mkdir(parents=True, exist_ok=True)
        (repo / "refs" / "main").write_text(commit)
    target = repo / "snapshots" / revision / library.filenames[0]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(weights.read_bytes())
    return target
