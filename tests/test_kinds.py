"""The kinds table (suite/kinds.py): every rule that depends on a module's kind, read from one place."""

from __future__ import annotations

import inspect

import pytest

from suite.baselines import BASELINES, SLOT_MODES
from suite.kinds import KIND_MODES, KINDS, MODES, input_stride, point_args
from suite.modules import MODULES, module_defaults
from suite.spec import KIND_MODES as SPEC_KIND_MODES


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_has_modules_and_a_baseline_point_that_takes_them(kind):
    assert any(entry.kind == kind for entry in MODULES.entries())
    assert any(kind in kinds for entry in BASELINES.entries() for kinds in entry.meta["catalog"].kinds.values())


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_kind_modes_come_from_the_grammar_and_replace_only_where_something_is_replaced(kind):
    entry = KINDS[kind]
    assert entry.modes and set(entry.modes) <= set(MODES) and entry.default_mode == entry.modes[0]
    assert ("replace" in entry.modes) == (entry.replaces is not None)
    if not entry.swaps_block:
        assert set(entry.modes) <= set(SLOT_MODES)


def test_views_of_the_table_agree_with_it():
    assert KIND_MODES == SPEC_KIND_MODES == {name: kind.modes for name, kind in KINDS.items()}
    assert set(SLOT_MODES) == {mode for kind in KINDS.values() if not kind.swaps_block for mode in kind.modes}


@pytest.mark.parametrize("name", MODULES.list())
def test_builders_take_their_kinds_point_arguments_first_and_users_never_set_them(name):
    entry = MODULES.entry(name)
    parameters = list(inspect.signature(entry.obj).parameters)
    leading = KINDS[entry.kind].point_args
    assert tuple(parameters[: len(leading)]) == leading
    assert not set(module_defaults(name)) & set(leading)


def test_point_arguments_and_input_stride_follow_the_kind():
    """unet at 64 px, width 8: up2 doubles a stride-4 map, down2 halves a stride-2 one."""
    points = BASELINES.get("unet")("seg", 1, 3, 64, width=8).insertion_points()
    assert point_args("up", points["up2"]) == (32, 16, 2) and input_stride("up", points["up2"]) == 4
    assert point_args("down", points["down2"]) == (16, 16, 2) and input_stride("down", points["down2"]) == 2
    assert point_args("conv", points["enc2"]) == (8, 16, 1) and input_stride("conv", points["enc2"]) == 2
    assert point_args("attention", points["dec3"]) == (32,) and input_stride("attention", points["dec3"]) == 4
