"""Plugin files for the tests, written as a new user would write them, and a clean registry around each test.

``run_cli`` runs ``suite ...`` in this process and returns (exit code, stdout, stderr); use it with the
``isolated_plugins`` fixture (conftest.py), so what a command loads is gone after the test.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "plugins" / "my_attn.py"
BROKEN = REPO / "tests" / "plugins" / "square_only_attn.py"

GATE = '''
import torch
from torch import nn

from suite.registry import MODULES


@MODULES.register("{name}", kind="attention", paper="A channel gate", arxiv=None)
def {name}(channels: int, scale: float = 1.0) -> nn.Module:
    return Gate{name}(channels, scale)


class Gate{name}(nn.Module):
    def __init__(self, channels, scale):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.scale = scale

    def forward(self, x):
        return x * torch.sigmoid(self.scale * self.weight).view(1, -1, 1, 1)
'''


def write(folder: Path, filename: str, source: str) -> Path:
    path = folder / filename
    path.write_text(textwrap.dedent(source))
    return path


def gate_plugin(folder: Path, name: str = "my_gate", filename: str | None = None, extra: str = "") -> Path:
    """A plugin file that registers one attention module ``name``."""
    return write(folder, filename or f"{name}.py", GATE.format(name=name) + extra)


def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    from suite.cli import main

    monkeypatch.setattr(sys, "argv", ["suite", *map(str, args)])
    monkeypatch.setenv("COLUMNS", "240")
    with pytest.raises(SystemExit) as exited:
        main()
    captured = capsys.readouterr()
    return exited.value.code, captured.out, captured.err
