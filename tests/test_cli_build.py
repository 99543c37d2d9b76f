"""``suite list`` and ``suite inspect``: tables generated from the registries, JSON for machines, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import timm
from typer.testing import CliRunner

from suite.baselines import BASELINES
from suite.build import DEFAULT_IMAGE_SIZE, DEFAULT_NUM_CLASSES, build_variant
from suite.cli import app, main
from suite.kinds import KINDS
from suite.modules import MODULES

REPO = Path(__file__).resolve().parents[1]
WIDE = {"COLUMNS": "240"}  # rich wraps at 80 columns when not on a terminal


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def invoke(*args: str):
    result = CliRunner().invoke(app, list(args), env=WIDE)
    assert result.exit_code == 0, result.output
    return result.output


def first_column(output: str) -> list[str]:
    """The first cell of every body row of the rich tables in ``output`` (a row's wrapped continuation
    lines, whose first cell is blank, are skipped)."""
    cells = [line.split("│")[1].strip() for line in output.splitlines() if line.startswith("│")]
    return [cell for cell in cells if cell]


def inspect_json(*args: str) -> dict:
    return json.loads(invoke("inspect", *args, "--json", "--no-latency", "--device", "cpu"))


def test_list_modules_shows_every_registered_module_with_kind_and_arxiv():
    output = invoke("list", "modules")
    assert first_column(output) == MODULES.list()
    for entry in MODULES.entries():
        row = next(line for line in output.splitlines() if line.startswith(f"│ {entry.name} "))
        assert entry.meta["kind"] in row
        assert (entry.meta.get("arxiv") or "-") in row
    assert len(MODULES) >= 50
    counts = ", ".join(f"{len([e for e in MODULES.entries() if e.kind == kind])} {kind}" for kind in KINDS)
    assert counts in " ".join(output.split())  # the title counts every kind, and every kind has modules


def test_list_modules_pattern_filters():
    assert first_column(invoke("list", "modules", "--pattern", "s*")) == MODULES.list("s*")


def test_list_baselines_shows_every_baseline_with_its_point_count():
    output = invoke("list", "baselines")
    assert first_column(output) == BASELINES.list()
    for entry in BASELINES.entries():
        row = next(line for line in output.splitlines() if line.startswith(f"│ {entry.name} "))
        assert row.split("│")[3].strip() == str(len(entry.meta["catalog"].names))


def test_list_sets_shows_one_row_per_grid_of_every_variant_set():
    from suite.variant_sets import available, load

    output = invoke("list", "sets")
    expected = [name for name in available() for _ in load(name)]
    assert first_column(output) == expected
    rows = [line for line in output.splitlines() if line.startswith("│ ")]
    datasets = [request.dataset for name in available() for request in load(name)]
    assert [row.split("│")[2].strip() for row in rows] == datasets
    assert first_column(invoke("list", "sets", "--pattern", "demo")) == ["demo"] * len(load("demo"))


@pytest.mark.parametrize("name", ["unet", "resnet18"])
def test_list_points_shows_every_catalog_point_with_built_channels(name):
    output = invoke("list", "points", name)
    catalog = BASELINES.entry(name).meta["catalog"]
    assert first_column(output) == catalog.names
    task = BASELINES.entry(name).meta["tasks"][0]
    size = DEFAULT_IMAGE_SIZE[task]
    assert f"built for {task} at {size}x{size} px" in " ".join(output.split())
    points = build_variant(name, task, DEFAULT_NUM_CLASSES[task], 3, size).model.insertion_points()
    cells = [line.split("│") for line in output.splitlines() if line.startswith("│")]
    rows = {row[1].strip(): row[2].strip() for row in cells}
    for point in points.values():
        assert rows[point.name].split(" -> ")[-1] == str(point.channels)


def test_list_points_pattern_filters():
    assert first_column(invoke("list", "points", "unet", "-p", "dec*")) == ["dec1", "dec2", "dec3", "dec4"]


def test_inspect_resnet50_se_matches_timm_seresnet50():
    report = inspect_json("resnet50+se@blocks", "--image-size", "224")
    seresnet50 = sum(p.numel() for p in timm.create_model("seresnet50", pretrained=False).parameters())
    assert report["params"] == seresnet50
    assert report["params_added"] == sum(p["params"] for p in report["placements"])
    assert report["spec"] == "resnet50+se@blocks1,blocks2,blocks3,blocks4"
    assert report["input_shape"] == [1, 3, 224, 224] and report["num_classes"] == 1000
    assert report["gmacs_added"] == pytest.approx(report["gmacs"] - report["baseline_gmacs"])
    assert report["gmacs_added"] > 0
    assert report["latency"] is None and report["throughput"] is None


def test_inspect_unet_se_places_at_the_decoder_with_resolved_hparams():
    report = inspect_json("unet+se", "--width", "16", "--image-size", "64")
    catalog = BASELINES.entry("unet").meta["catalog"]
    placements = report["placements"]
    assert [p["point"] for p in placements] == list(catalog.expand(catalog.defaults["attention"]))
    assert [p["point"] for p in placements] == ["dec1", "dec2", "dec3", "dec4"]
    assert report["task"] == "seg" and report["num_classes"] == 1
    for p in placements:
        channels, hidden = p["channels"], p["hparams"]["rd_channels"]
        assert p["module"] == "se" and p["mode"] == "after" and p["hparams"]["rd_ratio"] == 1 / 16
        # SE = 1x1 conv C->r with bias, 1x1 conv r->C with bias: the resolved r explains the params.
        assert p["params"] == 2 * channels * hidden + hidden + channels
    assert [p["channels"] for p in placements] == [16, 32, 64, 128]


@pytest.mark.slow
def test_inspect_unet_defaults_are_seg_at_256():
    report = inspect_json("unet+se")
    assert report["image_size"] == 256 and report["input_shape"] == [1, 3, 256, 256]
    assert [p["channels"] for p in report["placements"]] == [64, 128, 256, 512]


def test_inspect_measures_latency_with_labels():
    report = json.loads(
        invoke("inspect", "unet", "--width", "4", "--image-size", "32", "--device", "cpu", "--json",
               "--runs", "3", "--throughput-batch", "4")
    )
    latency, throughput = report["latency"], report["throughput"]
    assert latency["batch_size"] == 1 and latency["median_ms"] > 0 and latency["device"] == "cpu"
    assert throughput["batch_size"] == 4 and throughput["images_per_s"] > 0
    assert latency["runs"] == throughput["runs"] == 3
    assert latency["dtype"] == "float32" and latency["device_name"]


def test_inspect_tables_label_units():
    output = invoke("inspect", "unet+se@dec1", "--width", "4", "--image-size", "32", "--device", "cpu", "--no-latency")
    assert "unet+se@dec1" in output and "GMACs" in output and "batch 1" in output
    assert "not measured" in output
    row = " ".join(line for line in output.splitlines() if "element-wise" in line or "M-ops" in line)
    assert "M-ops not in GMACs" in row and "over the baseline" in row


def test_inspect_reports_the_element_wise_ops_a_gate_adds():
    report = inspect_json("unet+se@dec1", "--width", "4", "--image-size", "32")
    gated = report["placements"][0]["channels"] * 32 * 32  # SE multiplies every element at dec1
    assert report["elementwise_mops_added"] * 1e6 >= gated
    assert report["elementwise_mops"] == pytest.approx(report["baseline_elementwise_mops"] + report["elementwise_mops_added"])


def test_list_points_shows_the_unet_up_and_down_points():
    output = invoke("list", "points", "unet", "-p", "*o*")
    rows = {line.split("│")[1].strip(): line for line in output.splitlines() if line.startswith("│ down")}
    assert sorted(rows) == ["down1", "down2", "down3", "down4"]
    assert all("max-pool" in line for line in rows.values())
    ups = [line for line in invoke("list", "points", "unet", "-p", "up*").splitlines() if line.startswith("│ up")]
    assert len(ups) == 4 and all("transposed conv" in line and "up" in line for line in ups)


BAD_INPUTS = {
    "unknown module": (["inspect", "unet+foo"], "se"),
    "unknown baseline": (["inspect", "unetx+se"], "unet"),
    "unknown point": (["inspect", "unet+se@dec9"], "dec1"),
    "bad kwarg": (["inspect", "unet+se(foo=1)"], "rd_ratio"),
    "wrong kind for point": (["inspect", "unet+dsconv@skip1"], "enc1"),
    "syntax error": (["inspect", "unet+se@"], "unet+se@decoder"),
    "unknown device": (["inspect", "unet", "--device", "tpu"], "cpu, cuda, auto"),
    "unknown task": (["inspect", "unet", "--task", "det"], "cls, seg"),
    "baseline build argument": (["inspect", "vit_tiny", "--width", "8"], "its arguments"),
    "points without baseline": (["list", "points"], "unet"),
    "baseline for modules": (["list", "modules", "unet"], "suite list points unet"),
    "baseline argument": (["inspect", "unet(wdth=18)"], "its arguments: width=64"),
    "composite of a conv module": (["inspect", "unet+(se|dsconv)"], "a composite combines attention modules only"),
    "plugin file missing": (["list", "modules", "--plugin", "no_such_plugin.py"], "no_such_plugin.py: cannot read it"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_line_naming_the_choices(case, monkeypatch, capsys):
    args, named = BAD_INPUTS[case]
    monkeypatch.setattr(sys, "argv", ["suite", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert named in lines[0]


def test_bad_spec_exits_2_without_traceback():
    done = subprocess.run(
        [sys.executable, "-m", "suite", "inspect", "unet+se@dec9", "--no-latency"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "dec1" in done.stderr
