"""Devices: which one to use (``auto`` | ``cpu`` | ``cuda``), what to call it, and the deterministic switch.

The ground floor of the package: training, executors, cost measurement and provenance all name and
choose devices through here, so a device reads the same in a run record, a latency caption and a report.
"""

from __future__ import annotations

import os
import platform
from contextlib import contextmanager
from functools import lru_cache
from typing import Iterator

import torch

from suite.errors import SuiteError

DEVICES = ("cpu", "cuda", "auto")


def resolve_device(device: str | torch.device) -> torch.device:
    """``auto`` -> CUDA when available, else CPU; asking for CUDA without one is a user error."""
    name = str(device).lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.split(":")[0] not in ("cpu", "cuda"):
        raise SuiteError(f"unknown device {str(device)!r}; devices: {', '.join(DEVICES)}")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise SuiteError(f"device {name!r} asked for but no CUDA GPU is visible; use --device cpu or auto")
    return torch.device(name)


def device_name(device: str | torch.device) -> str:
    """Human label of a device: the GPU model, or the CPU model and the threads torch uses."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{_cpu_model()} ({torch.get_num_threads()} threads)"


@lru_cache(maxsize=1)
def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def host_device_name() -> str:
    """The accelerator this process would train on: the current GPU's model, else the CPU model."""
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(torch.cuda.current_device())
    return _cpu_model()


@contextmanager
def determinism(enabled: bool, device: torch.device) -> Iterator[None]:
    """Deterministic algorithms and cuDNN settings for the block; the previous settings come back after.

    On CUDA, ops without a deterministic kernel (e.g. adaptive average pooling's backward) warn instead
    of failing. Off: cuDNN autotuning (``benchmark``) is allowed on CUDA for speed.
    """
    saved = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
        os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
    )
    if enabled and device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(enabled, warn_only=device.type == "cuda")
    torch.backends.cudnn.deterministic = enabled
    torch.backends.cudnn.benchmark = not enabled and device.type == "cuda"
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(saved[0], warn_only=saved[1])
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = saved[2], saved[3]
        if saved[4] is None:
            os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
        else:
            os.environ["CUBLAS_WORKSPACE_CONFIG"] = saved[4]
