"""The contract suite on every registered module and on composites: the checks ``suite check`` runs.

Generated from ``suite.contract.checks_for`` (the same list ``suite check`` runs), so a module that is
registered is checked, and the command and the tests cannot drift: shapes at odd, non-square and tiny
maps and at the kind's extra cases, batch 1, gradients, channels_last with bf16 autocast, the same
output from the same seed, params and GMACs cross-checked, every point of every baseline in every mode,
and gated insertions that compute the baseline's output at initialisation.

The exhaustive part runs as ``slow``: placements in the full-width baselines (resnet50, vit_small), and
the identity at initialisation beyond a representative subset (every module in the U-Net, every
baseline with SE and the attention gate).
"""

from __future__ import annotations

import pytest
import torch

from suite import contract
from suite.contract import _module_checks as module_checks
from suite.contract import _network_checks as network_checks
from suite.contract._cases import Subject, reference_cases
from suite.modules import MODULES

# Full-width siblings of resnet18 / vit_tiny: seconds per build.
SLOW_BASELINES = {"resnet50", "vit_small"}
# Where the identity at initialisation runs normally: every module here, and these modules everywhere.
IDENTITY_BASELINES = {"unet"}
IDENTITY_MODULES = {"se", "ag"}
# Composites through the same checks, in the baselines of each layout (NCHW maps, ResNet blocks, tokens).
COMPOSITES = ["(se|sa)", "(se>simam)", "(cbam|eca):wsum", "(se|(sa>eca)):cat"]
COMPOSITE_BASELINES = ["unet", "resnet18", "vit_tiny"]


def _slow(check: contract.Check) -> bool:
    if check.baseline in SLOW_BASELINES:
        return True
    if check.name == "identity":
        return check.baseline not in IDENTITY_BASELINES and check.subject not in IDENTITY_MODULES
    return False


def _params(subjects: list[str], baselines: str = "*") -> list:
    params = []
    for subject in subjects:
        for check in contract.checks_for(subject, baselines=baselines):
            marks = [pytest.mark.slow] if _slow(check) else []
            params.append(pytest.param(check, marks=marks, id=f"{subject}-{check.id}"))
    return params


def _composite_params() -> list:
    return [p for baseline in COMPOSITE_BASELINES for p in _params(COMPOSITES, baseline) if _in(p, baseline)]


def _in(param, baseline: str) -> bool:
    """A composite's module-level checks once (with the first baseline), its placements per baseline."""
    check = param.values[0]
    return check.baseline == baseline or (check.baseline is None and baseline == COMPOSITE_BASELINES[0])


@pytest.mark.parametrize("check", _params(MODULES.list()))
def test_every_registered_module_keeps_its_contract(check: contract.Check) -> None:
    outcome = contract.run(check)
    assert outcome.passed, f"{check.subject} {check.name} at {check.where}: {outcome.problem}"


@pytest.mark.parametrize("check", _composite_params())
def test_composites_keep_the_attention_contract(check: contract.Check) -> None:
    outcome = contract.run(check)
    assert outcome.passed, f"{check.subject} {check.name} at {check.where}: {outcome.problem}"


def test_every_module_is_checked_at_every_kind_of_check() -> None:
    """Each registered module gets the module-level checks and a placement in every baseline of its kind."""
    from suite.baselines import BASELINES

    for name in MODULES.list():
        checks = contract.checks_for(name)
        names = {c.name for c in checks}
        assert {"shape", "batch1", "gradients", "channels_last_bf16", "seed", "cost", "placement"} <= names, name
        kind = MODULES.entry(name).kind
        takes = {b for b in BASELINES.list() if BASELINES.entry(b).meta["catalog"].points_of(kind)}
        assert {c.baseline for c in checks if c.name == "placement"} <= takes
        assert "unet" in {c.baseline for c in checks if c.name == "placement"}
        assert ("identity" in names) == (kind in ("attention", "fusion")), name


# --- the checks themselves fail on what they are meant to catch -------------------------------------


class _Probe(torch.nn.Module):
    def __init__(self, forward):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(1))
        self._forward = forward

    def forward(self, x):
        return self._forward(self, x)


@pytest.fixture
def probe(monkeypatch):
    """Register an attention module whose forward the test chooses; returns a setter."""
    from suite.registry import Entry

    def register(forward, shared: bool = False, seeded: bool = True) -> str:
        one = _Probe(forward)

        def build(channels: int) -> torch.nn.Module:
            if not seeded:
                torch.manual_seed(int.from_bytes(__import__("os").urandom(4), "little"))
            module = one if shared else _Probe(forward)
            module.weight.data = torch.randn(1)
            return module

        monkeypatch.setitem(MODULES._entries, "probe", Entry("probe", build, {"kind": "attention", "paper": ""}))
        return "probe"

    return register


def _problems(name: str, check_name: str, baselines: str = "unet") -> list[str]:
    checks = [c for c in contract.checks_for(name, baselines=baselines) if c.name == check_name]
    assert checks
    return [o.problem for o in map(contract.run, checks) if not o.passed]


def test_a_module_that_crops_non_square_maps_fails_shape_naming_the_size(probe) -> None:
    name = probe(lambda self, x: (x * self.weight)[..., : x.shape[-2], : x.shape[-2]])
    failures = [(c.where, o.problem) for c in contract.checks_for(name, baselines="unet") if c.name == "shape"
                for o in [contract.run(c)] if not o.passed]  # fmt: skip
    assert failures and all("13x17" in where or "1x3" in where for where, _ in failures)
    assert all("expected" in problem and "\n" not in problem for _, problem in failures)


def test_a_module_that_ignores_its_input_fails_gradients(probe) -> None:
    name = probe(lambda self, x: torch.zeros_like(x) + self.weight)
    assert any("no gradient reaches the input" in p for p in _problems(name, "gradients"))


def test_a_module_that_returns_non_finite_values_fails(probe) -> None:
    name = probe(lambda self, x: x * self.weight / 0.0)
    assert any("non-finite" in p for p in _problems(name, "shape"))


def test_a_module_that_draws_from_another_rng_fails_seed(probe) -> None:
    name = probe(lambda self, x: x * self.weight, seeded=False)
    assert any("differ" in p for p in _problems(name, "seed"))


def test_a_builder_that_shares_one_module_fails_placement(probe) -> None:
    name = probe(lambda self, x: x * self.weight, shared=True)
    assert any("new module on every call" in p for p in _problems(name, "placement"))


def test_a_module_with_an_unused_parameter_fails_gradients(probe) -> None:
    name = probe(lambda self, x: x * 2.0)
    assert any("no gradient reaches parameter weight" in p for p in _problems(name, "gradients"))


def test_identity_check_fails_when_the_gate_does_not_start_closed(monkeypatch) -> None:
    """The identity check compares with the plain network: a gate that starts open is caught."""
    from suite.baselines import _slots

    original = _slots.Gate.__init__

    def opened(self, module, channels, form):
        original(self, module, channels, form)
        torch.nn.init.constant_(self.gate, 0.5)

    monkeypatch.setattr(_slots.Gate, "__init__", opened)
    problems = _problems("se", "identity")
    assert problems and "differs from the plain unet" in problems[0]


def test_cost_check_reports_labelled_params_and_gmacs() -> None:
    subject = Subject.of("se")
    note = module_checks.cost(subject, reference_cases("attention")[0])
    assert "params" in note and "GMACs (1 multiply-add = 1 MAC)" in note and "batch 1" in note


@pytest.mark.slow
def test_compile_check_matches_eager() -> None:
    module_checks.compiled(Subject.of("se"), reference_cases("attention")[0])


def test_modes_are_dealt_over_the_points_so_one_build_covers_every_mode() -> None:
    dealt = network_checks.modes_over_points(("after", "residual", "gated"), ["a", "b", "c", "d"])
    assert dealt == {"after": ["a", "d"], "residual": ["b"], "gated": ["c"]}
