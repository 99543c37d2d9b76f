"""The contract suite: every check a module (built-in, plugin or composite) must pass, as data.

``checks_for("se")`` lists the checks of one module, each a named, labelled callable; ``run`` runs one
and returns its ``Outcome``. ``suite check`` runs them and prints one line per failure; the test suite
parametrizes over the same list for every registered module, so the two cannot drift. The checks, by
name (``_module_checks`` and ``_network_checks`` say what each one asserts):

- ``shape`` at each reference case of the kind and each map of ``SIZES`` (7x7, 13x17, 2x2, 1x3, 1x1;
  those below the module's ``min_positions`` are left out), ``batch1``, ``gradients``, ``channels_last_bf16``,
  ``seed``, ``cost`` (params and GMACs at a width-64 reference point, cross-checked), and with
  ``compile=True`` ``compile``;
- ``placement`` in every baseline that has points of the kind (all its points, every mode) and, for
  kinds with gated modes, ``identity`` (gated insertions compute the baseline's output at initialisation).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial
from typing import Callable

from suite.contract import _module_checks as module_checks
from suite.contract import _network_checks as network_checks
from suite.contract._cases import BATCH_ONE_SIZE, SIZES, Subject, cost_case, reference_cases, size_text
from suite.contract._failure import ContractFailure
from suite.errors import SuiteError

__all__ = ["Check", "ContractFailure", "Outcome", "Subject", "checks_for", "run"]


@dataclass(frozen=True)
class Check:
    """One check of one module: what it checks (``name``), where (``where``) and how (``call``)."""

    subject: str  # the module or composite, canonical
    name: str  # shape, batch1, gradients, channels_last_bf16, seed, cost, compile, placement, identity
    where: str  # "unet dec2 (channels=16) at 13x17, batch 2" or a baseline
    call: Callable[[], str | None]  # raises ContractFailure; may return a note (e.g. the cost figures)
    baseline: str | None = None  # the baseline a placement or identity check builds

    @property
    def id(self) -> str:
        """A pytest-friendly id: ``shape-unet_dec2-13x17``."""
        words = re.sub(r"\(.*?\)|, batch \d+|\bat\b", " ", self.where).split()
        return "-".join([self.name, *(re.sub(r"\W+", "_", w) for w in words)])


@dataclass(frozen=True)
class Outcome:
    check: Check
    problem: str | None  # one line; None when the check passed
    note: str | None = None

    @property
    def passed(self) -> bool:
        return self.problem is None


def checks_for(module: str, *, compile: bool = False, baselines: str = "*") -> list[Check]:
    """Every check of ``module`` (a registered name or a composite such as ``(se|sa):wsum``); the
    placement checks in the baselines matching the glob ``baselines``."""
    from suite.baselines import BASELINES

    subject = Subject.of(module)
    name = subject.name
    cases = reference_cases(subject.kind)
    first, cost = cases[0], cost_case(subject.kind)
    checks = [
        Check(name, "shape", f"{case.label} at {size_text(size)}, batch 2", partial(module_checks.shape, subject, case, size))
        for case in cases
        for size in SIZES
        if subject.fits(size)
    ]
    if subject.fits(BATCH_ONE_SIZE):
        at = f"{first.label} at {size_text(BATCH_ONE_SIZE)}"
        checks += [
            Check(name, "batch1", f"{at}, batch 1", partial(module_checks.batch_one, subject, first)),
            Check(name, "channels_last_bf16", f"{at}, batch 2", partial(module_checks.channels_last_bf16, subject, first)),
            Check(name, "seed", f"{at}, batch 2", partial(module_checks.seed, subject, first)),
        ]
    checks += [
        Check(name, "gradients", f"{first.label} at 6x6, batch 2", partial(module_checks.gradients, subject, first)),
        Check(name, "cost", f"{cost.label} at 16x16, batch 1", partial(module_checks.cost, subject, cost)),
    ]
    if compile:
        checks.append(Check(name, "compile", f"{first.label} at 8x8, batch 2", partial(module_checks.compiled, subject, first)))
    gated = network_checks.gated_modes(subject.kind)
    for baseline in BASELINES.list(baselines):
        points = network_checks.fitting_points(subject, baseline)
        if not points:
            continue
        checks.append(
            Check(name, "placement", baseline, partial(network_checks.placement, subject, baseline, points), baseline)
        )
        if gated:
            checks.append(
                Check(name, "identity", baseline, partial(network_checks.identity, subject, baseline, points), baseline)
            )
    return checks


def run(check: Check) -> Outcome:
    """Run one check; whatever the module raises becomes the outcome's one-line problem."""
    try:
        note = check.call()
    except ContractFailure as err:
        return Outcome(check, str(err))
    except SuiteError as err:
        return Outcome(check, f"refused: {err}")
    except Exception as err:  # noqa: BLE001  (a module's own error is a finding, not a crash of the check)
        text = (str(err).strip().splitlines() or [""])[0][:300]
        return Outcome(check, f"{type(err).__name__}: {text}" if text else type(err).__name__)
    return Outcome(check, None, note)
