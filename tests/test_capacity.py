"""Capacity-matched controls: the width search, the widened baselines, the second verdict and its gate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from suite.baselines import BASELINES
from suite.baselines._widths import WidthLadder
from suite.build import build_variant
from suite.capacity import TOLERANCE, _largest_at_most, match_capacity
from suite.errors import SuiteError
from suite.modules import MODULES
from suite.reports.model import build_report
from suite.spec import canonical, parse
from _verdict_rows import runs_frame

# (task, classes, image size, recipe model kwargs) of a small build of each baseline the issue names.
SMALL = {"unet": ("seg", 1, 32, {"width": 8}), "resnet18": ("cls", 10, 32, {"width": 8}), "vit_tiny": ("cls", 10, 32, {})}
VIT_SAMPLE = ("se", "cbam", "eca", "simam", "identity")
DASHBOARD = Path(__file__).resolve().parents[1] / "dashboard"


def _kinds(baseline: str) -> set[str]:
    return {kind for kinds in BASELINES.entry(baseline).meta["catalog"].kinds.values() for kind in kinds}


def _cases() -> list:
    cases = []
    for baseline in SMALL:
        for name in MODULES.list():
            if MODULES.entry(name).meta["kind"] not in _kinds(baseline):
                continue
            slow = baseline == "vit_tiny" and name not in VIT_SAMPLE
            cases.append(pytest.param(baseline, name, marks=[pytest.mark.slow] if slow else [], id=f"{baseline}+{name}"))
    return cases


def _size(spec: str, baseline: str) -> int:
    task, classes, image_size, kwargs = SMALL[baseline]
    import torch

    with torch.device("meta"):
        return build_variant(spec, task, classes, 1, image_size, **kwargs).params


@pytest.mark.parametrize("baseline, module", _cases())
def test_control_is_within_two_percent_or_the_closest_larger_step(baseline, module):
    """For every module at its default points: the control's parameters are within ±2% of the variant's,
    or no step is, and then the control is the next step above and says so."""
    task, classes, image_size, kwargs = SMALL[baseline]
    try:
        match = match_capacity(f"{baseline}+{module}", task, classes, 1, image_size, kwargs)
    except SuiteError as err:  # a module that cannot be built at this size is refused at the build, not here
        pytest.skip(str(err))
    assert match.variant_size == _size(match.variant, baseline)
    assert match.control_size == _size(match.control, baseline)  # the control is built as its spec says
    assert parse(match.control).baseline == baseline and not parse(match.control).insertions
    if match.closest_larger:
        assert match.control_size > match.variant_size * (1 + TOLERANCE)
        assert "closest larger" in match.describe()
    else:
        assert abs(match.gap) <= TOLERANCE


def test_search_takes_the_nearer_side_and_reports_the_closest_larger():
    """A synthetic ladder whose sizes are known: coarse steps of 100, a fine coordinate of 7."""
    ladder = WidthLadder(multiples=(1, 1), fine_order=(1,), read=lambda kw: (kw["a"], kw["b"]), write=lambda c: {})

    def size(coords):
        return 100.0 * coords[0] + 7.0 * coords[1]

    # 1000 = 100*a + 7*b with b scaled with a (b = a): a = 9, b = 9 gives 963; fine: b in [9, 10] -> 10 gives 970
    assert _largest_at_most(ladder, (4, 4), 1000.0, size) == (9, 10)
    assert _largest_at_most(ladder, (4, 4), 50.0, size) is None  # even (1, 1) is larger


def test_the_baseline_is_its_own_control_when_a_module_adds_almost_nothing():
    match = match_capacity("unet+identity", "seg", 1, 1, 32, {"width": 8})
    assert match.is_baseline and match.control == "unet" and match.gap == 0


@pytest.mark.parametrize("spec, message", [
    ("unet(widths=(8,16,32))", "5 positive whole numbers"),
    ("resnet18(widths=(8,16,0,64))", "4 positive whole numbers"),
    ("vit_tiny(embed_dim=100)", "multiple of its 3 attention heads"),
    ("swin_tiny(embed_dim=100)", "multiple of 3"),
    ("unet(widths=(8,16,x))", "5 positive whole numbers"),
])  # fmt: skip
def test_bad_widths_are_one_line(spec, message):
    with pytest.raises(SuiteError) as err:
        build_variant(spec, "seg" if "unet" in spec else "cls", 2, 1, 32)
    assert message in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("spec", [
    "unet(widths=(8,17,32,64,128))", "resnet18(widths=(9,16,32,65))", "vit_tiny(embed_dim=195,mlp_dim=790)",
    "swin_tiny(embed_dim=99,mlp_dims=(400,800,1600,3201))", "resunet(decoder_channels=(64,32,16,8,9))",
])  # fmt: skip
def test_widened_baselines_round_trip_and_build_as_written(spec):
    assert str(canonical(str(canonical(spec)))) == str(canonical(spec))
    built = build_variant(spec, "seg" if "unet" in spec else "cls", 2, 1, 32)
    channels = {name: point.channels for name, point in built.model.insertion_points().items()}
    kwargs = dict(parse(spec).baseline_kwargs)
    stages = {"unet": ["enc1", "enc2", "enc3", "enc4", "enc5"], "resnet18": ["stage1", "stage2", "stage3", "stage4"]}
    if "widths" in kwargs:
        assert [channels[point] for point in stages[parse(spec).baseline]] == list(kwargs["widths"])
    if "embed_dim" in kwargs:
        assert min(channels.values()) == kwargs["embed_dim"]
    if "mlp_dim" in kwargs:
        assert built.model.blocks[0].mlp.fc1.out_features == kwargs["mlp_dim"]
    if "mlp_dims" in kwargs:
        assert [stage.blocks[0].mlp.fc1.out_features for stage in built.model.layers] == list(kwargs["mlp_dims"])


def _capacity_runs(control_gain: float):
    """Baseline, a variant 2 points better on every fold, and a control ``control_gain`` points better."""
    rng = np.random.default_rng(0)
    base = 80 + rng.normal(0, 1, (5, 1))
    noise = rng.normal(0, 0.05, (5, 1))
    control = "resnet18(widths=(9,16,32,65))"
    runs = runs_frame({"resnet18": base, "resnet18+se@blocks": base + 2 + noise, control: base + control_gain + noise})
    runs.loc[runs["spec"] == control, "baseline"] = "resnet18"
    controls = [{"variant": "resnet18+se@blocks", "control": control, "baseline": "resnet18", "measure": "params",
                 "variant_size": 100.0, "control_size": 100.5, "baseline_size": 90.0, "closest_larger": False,
                 "dataset": "digits", "recipe_hash": "r" * 16}]  # fmt: skip
    return runs, controls


@pytest.mark.parametrize("control_gain, beyond", [(0.0, True), (2.0, False)])
def test_second_verdict_tells_beyond_capacity_from_a_bigger_baseline(control_gain, beyond):
    runs, controls = _capacity_runs(control_gain)
    report = build_report(runs, controls=controls)
    comp = next(c for c in report.comparisons if c.variant == "resnet18+se@blocks")
    assert comp.holds and comp.capacity is not None and comp.capacity.baseline == controls[0]["control"]
    assert comp.beyond_capacity is beyond
    expected = "and beyond capacity" if beyond else "but a baseline as big does as well"
    assert comp.capacity_summary == f"{comp.verdict}, {expected}"
    assert [c.variant for c in report.comparisons] == [comp.variant]  # the control is no claim of its own
    assert bool(report.failing("not-beyond-capacity")) is not beyond and not report.failing("not-holds")
    assert comp.capacity.family.startswith("capacity controls")
    document = json.loads(json.dumps(comp.to_dict(), allow_nan=False))
    assert document["capacity_summary"] == comp.capacity_summary and document["capacity"]["baseline"] == comp.capacity.baseline


def test_every_view_shows_the_capacity_column():
    from suite.reports.render import render

    runs, controls = _capacity_runs(2.0)
    report = build_report(runs, controls=controls)
    for fmt in ("md", "html", "latex"):
        text = render(report, fmt)
        assert "a baseline as big does as well" in text or fmt == "latex", fmt
        assert "resnet18(widths=(9,16,32,65))" in text.replace("\\_", "_"), fmt
    assert "vs capacity control" in render(report, "md")


def test_without_controls_the_gate_fails_a_variant_that_holds():
    runs, _ = _capacity_runs(0.0)
    report = build_report(runs)
    comp = next(c for c in report.comparisons if c.variant == "resnet18+se@blocks")
    assert comp.holds and comp.capacity is None and comp.capacity_summary is None
    assert comp in report.failing("not-beyond-capacity") and comp not in report.failing("not-holds")
    assert len(report.comparisons) == 2  # unknown as a control, the widened baseline is an ordinary variant


def _suite(*args: str, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "suite", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=600)


def test_run_with_a_capacity_control_trains_it_and_prints_both_verdicts(tmp_path, monkeypatch):
    """A real grid: resnet18+cbam@blocks on digits with its control, then the report's gate and the
    dashboard's Variant page."""
    store = str(tmp_path / "s.db")
    args = ["-v", "resnet18+cbam@blocks", "--dataset", "digits", "--folds", "3", "--epochs", "1",
            "--set", "model.width=8", "--set", "batch_size=256", "--store", store]  # fmt: skip
    done = _suite("run", *args, "--control", "capacity", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "capacity control of resnet18+cbam@blocks: resnet18(widths=" in done.stdout
    assert "3 specs x 3 folds" in done.stdout and "vs capacity control" in done.stdout
    from suite.store import read_controls, read_runs

    (control,) = read_controls(store)
    assert abs(control["control_size"] / control["variant_size"] - 1) <= TOLERANCE
    assert set(read_runs(store)["spec"]) == {"resnet18", "resnet18+cbam@blocks1,blocks2,blocks3,blocks4", control["control"]}
    gate = _suite("report", "--store", store, "--fail-on", "not-beyond-capacity", "--format", "json", cwd=tmp_path)
    document = json.loads(gate.stdout)
    comp = next(c for c in document["comparisons"] if c["variant"].startswith("resnet18+cbam"))
    assert comp["capacity"]["baseline"] == control["control"]
    assert gate.returncode == (0 if comp["capacity_summary"] and "beyond capacity" in comp["capacity_summary"]
                               and "but" not in comp["capacity_summary"] else 1)  # fmt: skip
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("SUITE_STORE", store)
    app = AppTest.from_file(str(DASHBOARD / "app.py"), default_timeout=120).run()
    app.switch_page("views/variant.py").run()
    assert not app.exception
    shown = " ".join(block.value for block in [*app.markdown, *app.caption])
    assert f"`{control['control']}`" in shown and "Capacity control:" in shown


@pytest.mark.parametrize("args, message", [
    (["--control", "size"], "unknown --control"),
    (["--control", "capacity", "--match", "flops"], "unknown --match"),
    (["--match", "gmacs"], "add --control capacity"),
])  # fmt: skip
def test_bad_control_options_are_one_line(tmp_path, args, message):
    done = _suite("run", "-v", "unet+se", "--dataset", "shapes", "--store", str(tmp_path / "s.db"), *args, cwd=tmp_path)
    assert done.returncode != 0 and message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "s.db").exists()


@pytest.mark.parametrize("command, spec, claims", [
    ("sweep", "resnet18+se --points blocks1,blocks4", {"resnet18+se@blocks1", "resnet18+se@blocks4"}),
    ("ablate", "resnet18+se@blocks1+eca@blocks4", {"resnet18+se@blocks1", "resnet18+eca@blocks4", "resnet18+se@blocks1+eca@blocks4"}),
])  # fmt: skip
def test_sweeps_and_ablations_take_the_capacity_control_outside_their_family(tmp_path, command, spec, claims):
    """A real tiny study with --control capacity: every claim gets its control, trained and shown
    beside it; the controls are neither members of the study's family nor rows of their own."""
    from suite.store import read_controls, read_runs, read_studies

    store = str(tmp_path / "s.db")
    args = [*spec.split(), "--dataset", "digits", "--folds", "3", "--epochs", "1", "--image-size", "8",
            "--set", "model.width=8", "--set", "batch_size=256", "--store", store]  # fmt: skip
    done = _suite(command, *args, "--control", "capacity", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (study,) = read_studies(store)
    assert {member[0] for member in study.members} == claims
    controls = read_controls(store)
    assert {c["variant"] for c in controls} == claims
    assert f"Holm within {study.kind} {study.name} · digits · accuracy ({len(claims)} comparisons)" in " ".join(done.stdout.split())
    assert "vs capacity control" in done.stdout
    trained = set(read_runs(store)["spec"])
    assert {c["control"] for c in controls} <= trained  # each control trained (a baseline as big is the baseline itself)
    shown = _suite("compare", "--study", study.name, "--store", store, "--json", cwd=tmp_path)
    document = json.loads(shown.stdout)
    assert {c["variant"] for c in document["comparisons"]} == claims
    assert all(c["capacity"] is not None for c in document["comparisons"])


@pytest.mark.parametrize("control_gain, words", [(0.0, "and beyond capacity; 1 of 1 points hold (1 of them beyond capacity)"),
                                                 (2.0, "but a baseline as big does as well; 1 of 1 points hold (0 of them beyond capacity)")])  # fmt: skip
def test_a_sweeps_summary_says_whether_its_best_point_is_beyond_capacity(control_gain, words):
    from suite.reports.study_model import PositionTable
    from suite.studies.sweep import SweepRow

    runs, controls = _capacity_runs(control_gain)
    comp = next(c for c in build_report(runs, controls=controls).comparisons if c.variant == "resnet18+se@blocks")
    table = PositionTable("digits", "accuracy", "", [SweepRow("blocks", 1, ("blocks",))], ["se"], {("blocks", "se"): comp})
    (line,) = table.summaries()
    assert line.startswith("se: best point blocks") and line.endswith(words)
