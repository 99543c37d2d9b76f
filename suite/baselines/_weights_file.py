"""Where a baseline's pretrained weights come from: a file the user names, or a library's local cache.

``model.pretrained`` is ``false`` (random initialisation), a path to a state dict (``.safetensors``,
or ``.pth`` / ``.pt`` / ``.bin`` read with ``torch.load(weights_only=True)``), or ``true``: the weights
the library publishes for the baseline (timm's ``pretrained_cfg.hf_hub_id``, smp's encoder settings),
taken from the Hugging Face cache only. Nothing is ever downloaded here, so a machine without a
network gets one line naming the file to place and where, never a hang.

A file's SHA-256 identifies the weights in the recipe (``Recipe.pretrained_sha256``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch

from suite.errors import SuiteError, shown
from suite.registry import BASELINES

SUFFIXES = (".safetensors", ".pth", ".pt", ".bin")
CHECKPOINT_WRAPPERS = ("state_dict", "model")  # a training checkpoint keeps its weights under one of these
DDP_PREFIX = "module."  # keys saved from a DistributedDataParallel wrapper


@dataclass(frozen=True)
class LibraryWeights:
    """A library's published weights for a baseline: a Hugging Face Hub repository, read from the cache."""

    repo_id: str  # e.g. "timm/resnet18.a1_in1k"
    revision: str | None = None  # a pinned commit (smp pins one), else the cached main
    filenames: tuple[str, ...] = ("model.safetensors", "pytorch_model.bin")  # the first one cached is used

    def cached_file(self, baseline: str) -> Path:
        """The cached weights file, or one line saying which file to place where."""
        from huggingface_hub import constants, try_to_load_from_cache

        cache = Path(constants.HF_HUB_CACHE)
        for filename in self.filenames:
            found = try_to_load_from_cache(self.repo_id, filename, cache_dir=cache, revision=self.revision)
            if isinstance(found, str):
                return Path(found)
        folder = cache / f"models--{self.repo_id.replace('/', '--')}"
        pinned = f" --revision {self.revision}" if self.revision else ""
        raise SuiteError(
            f"no cached pretrained weights for {baseline}: {self.filenames[0]} of {self.repo_id} is not in "
            f"{folder}; on a machine with a network run `hf download {self.repo_id} {self.filenames[0]}{pinned}` "
            f"and copy that folder here (HF_HUB_CACHE), or pass a file: --set model.pretrained=PATH"
        )


def weights_file(baseline: str, value: object) -> Path | None:
    """The file ``model.pretrained`` names for ``baseline``: None for false, the library's cached file for
    true, else the path itself, which must exist and be a state dict file."""
    if value is None or value is False:
        return None
    if value is True:
        library = BASELINES.entry(baseline).meta.get("weights")
        if library is None:
            raise SuiteError(f"{baseline} has no library weights; pass a file: --set model.pretrained=PATH")
        return library.cached_file(baseline)
    if not isinstance(value, (str, Path)):
        raise SuiteError(f"model.pretrained must be true, false or the path of a state dict file, got {shown(value)}")
    path = Path(value).expanduser()
    if path.suffix.lower() not in SUFFIXES:
        raise SuiteError(
            f"model.pretrained {str(path)!r} is not a state dict file; give a {', '.join(SUFFIXES)} file"
        )
    if not _is_file(path):
        raise SuiteError(
            f"model.pretrained file {str(path)!r} does not exist; give the path of a saved state dict, "
            "or model.pretrained=true for the library's cached weights"
        )
    return path.resolve()


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # a name too long for the file system, or with a NUL byte
        return False


def file_sha256(path: Path) -> str:
    """SHA-256 of a weights file (hex); read once per file version (path, size, modification time)."""
    stat = path.stat()
    return _sha256(str(path), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=64)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a state dict file on the CPU; a checkpoint's ``state_dict``/``model`` entry and a
    DistributedDataParallel ``module.`` prefix are unwrapped. An unreadable file is one line."""
    try:
        if path.suffix.lower() == ".safetensors":
            from safetensors.torch import load_file

            content = load_file(str(path), device="cpu")
        else:
            content = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001  (safetensors, pickle and zip errors all mean: not a state dict)
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0][:160]
        raise SuiteError(
            f"cannot read {str(path)!r} as a state dict ({reason}); save one with "
            "torch.save(model.state_dict(), PATH) or safetensors.torch.save_file(model.state_dict(), PATH)"
        ) from err
    for wrapper in CHECKPOINT_WRAPPERS:
        if isinstance(content, dict) and isinstance(content.get(wrapper), dict):
            content = content[wrapper]
            break
    if not isinstance(content, dict) or not content or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in content.items()
    ):
        raise SuiteError(
            f"{str(path)!r} holds no state dict (a mapping of parameter names to tensors); "
            "save one with torch.save(model.state_dict(), PATH)"
        )
    if all(k.startswith(DDP_PREFIX) for k in content):
        content = {k[len(DDP_PREFIX) :]: v for k, v in content.items()}
    return content
