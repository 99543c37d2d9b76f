"""Does a training run fit in memory? An estimate from the network built on the meta device, held
against what the device has, so a grid that cannot fit is refused before any data is read.

The estimate leaves out what is hard to know (activation gradients and workspace during the backward
pass, the allocator's slack), so it stays below a run's real peak and a run that fits is not refused:

- data: every published sample as uint8 images (and masks) at the recipe's size, held whole in memory
  (on the GPU too when training there);
- weights: 4 bytes per parameter for the weights, 4 for their gradients and 4 per optimizer state
  (AdamW keeps 2, SGD 1);
- activations: the output of every layer at the training batch size, in float32 (bfloat16 under CUDA
  autocast): within 25% of what autograd keeps for the backward pass on every baseline
  (tests/test_memory.py); at evaluation the two largest outputs at the evaluation batch size, if more;
  none for a network with a step the meta device cannot run.

Available: on CPU the memory the kernel reports available (``MemAvailable``), lowered to what the
cgroup (container) limit leaves; on CUDA the free device memory (``torch.cuda.mem_get_info``).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from suite.errors import SuiteError

GIB = 2**30
OPTIMIZER_STATES = {"adamw": 2, "sgd": 1}  # tensors of parameter size each optimizer keeps
_CGROUP_FILES = (  # (limit, usage): cgroup v2, then v1
    ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
    ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
)


@dataclass(frozen=True)
class MemoryNeed:
    """Bytes one training run needs at least, by what holds them."""

    data: int  # the data set (training) or the input batch
    weights: int  # weights, with their gradients and optimizer state when training
    activations: int
    training: bool = True

    @property
    def model(self) -> int:
        return self.weights + self.activations

    @property
    def total(self) -> int:
        return self.data + self.model

    def describe(self) -> str:
        names = ("data", "weights, gradients, optimizer") if self.training else ("input", "weights")
        parts = (*zip(names, (self.data, self.weights)), ("activations", self.activations))
        return f"{_gib(self.total)} ({', '.join(f'{name} {_gib(size)}' for name, size in parts)})"


def _gib(size: int) -> str:
    return f"{size / GIB:,.1f} GiB" if size >= GIB else f"{size / 2**20:,.0f} MiB"


def layer_outputs(model: nn.Module, input_shape: tuple[int, ...]) -> list[int]:
    """Elements of each layer's output (leaf modules, each tensor once) for one input of ``input_shape``
    (batch 1), found by a forward pass of a meta-device copy: no memory is touched. A network with a
    step the meta device cannot run (a custom kernel) gives no outputs: its estimate leaves them out."""
    sizes: list[int] = []
    seen: list[torch.Tensor] = []

    def record(module: nn.Module, inputs: object, output: object) -> None:
        outputs = output if isinstance(output, (tuple, list)) else (output,)
        for tensor in outputs:
            if isinstance(tensor, torch.Tensor) and not any(tensor is other for other in seen):
                seen.append(tensor)
                sizes.append(tensor.numel())

    leaves = [m for m in model.modules() if next(m.children(), None) is None]
    handles = [m.register_forward_hook(record) for m in leaves]
    try:
        with torch.no_grad():
            model.eval()(torch.empty(input_shape, device="meta"))
    except (RuntimeError, NotImplementedError):  # no meta kernel for some step: count nothing, stay low
        sizes.clear()
    finally:
        for handle in handles:
            handle.remove()
    return sizes


def training_need(model: nn.Module, recipe, in_channels: int, samples: int, task: str, device: str) -> MemoryNeed:
    """The estimate for training ``model`` (built on the meta device) under ``recipe`` on ``samples`` images
    (batches larger than the data count as the whole data)."""
    size = recipe.image_size
    outputs = layer_outputs(model, (1, in_channels, size, size))
    element = 2 if recipe.amp and device.startswith("cuda") else 4
    batch, eval_batch = (min(b, samples) if samples else b for b in (recipe.batch_size, recipe.eval_batch_size))
    train = sum(outputs) * batch * element
    evaluate = sum(sorted(outputs)[-2:]) * eval_batch * element
    params = sum(p.numel() for p in model.parameters())
    data = samples * size * size * (in_channels + (1 if task == "seg" else 0))
    return MemoryNeed(data, params * 4 * (2 + OPTIMIZER_STATES.get(recipe.optimizer, 0)), max(train, evaluate))


def _read_int(path: str) -> int | None:
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None  # "max": no limit


def host_available() -> int:
    """Bytes of RAM this process can still take: MemAvailable, lowered by a cgroup limit."""
    available = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                available = int(line.split()[1]) * 1024
    except OSError:
        pass
    if available is None:  # not Linux: all physical memory, still an upper bound
        available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for limit_file, usage_file in _CGROUP_FILES:
        limit, usage = _read_int(limit_file), _read_int(usage_file)
        if limit is not None and usage is not None:
            available = min(available, max(0, limit - usage))
            break
    return available


def inference_need(model: nn.Module, input_shape: tuple[int, ...]) -> MemoryNeed:
    """The estimate for forward passes of ``model`` (built on the meta device) at ``input_shape`` (batch
    first) without gradients: the input, the weights and the two largest layer outputs."""
    batch, *one = input_shape
    outputs = layer_outputs(model, (1, *one))
    params = sum(p.numel() for p in model.parameters())
    return MemoryNeed(math.prod(input_shape) * 4, params * 4, sum(sorted(outputs)[-2:]) * batch * 4, training=False)


def check_fits(
    spec: str, need: MemoryNeed, device: str, doing: str, options: str = "--image-size or --batch-size"
) -> None:
    """Refuse what needs more than ``device`` (and the host, for the data) has; ``doing`` says what,
    e.g. "to train at 64 px, batch 32", ``options`` what to lower."""
    host = host_available()
    on_host = need.data if device.startswith("cuda") else need.total
    places = [("this machine has", on_host, host)]
    if device.startswith("cuda") and torch.cuda.is_available():  # else the GPUs are Ray's or SLURM's nodes'
        free, _ = torch.cuda.mem_get_info(torch.device(device))
        places.append((f"{device} has", need.total, free))
    for place, needed, available in places:
        if needed > available:
            raise SuiteError(
                f"{spec} needs at least {need.describe()} {doing}, but {place} {_gib(available)} free; "
                f"lower {options}, or the module's or model's size arguments"
            )
