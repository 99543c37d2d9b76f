"""What every executor shares: torch threads per run, the grid's data on a device once, a failed record
for a run whose worker never came back, and the CPU cores this process may use."""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


@contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """``torch.set_num_threads(threads)`` for the block (None: leave torch's setting alone)."""
    import torch

    saved = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


class DeviceCopies:
    """The grid's dataset on each device a job asks for, moved there once (uint8 stays uint8); on the
    CPU the data is used as it is."""

    def __init__(self, data: object):
        self.data = data
        self._copies: dict[str, object] = {}

    def on(self, device: str) -> object:
        from suite.device import resolve_device

        resolved = resolve_device(device)
        if self.data is None or resolved.type != "cuda":
            return self.data
        if str(resolved) not in self._copies:
            self._copies[str(resolved)] = self.data.to(resolved)  # run_one's own move is then a no-op
        return self._copies[str(resolved)]
