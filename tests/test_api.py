"""The Python API: ``suite.build``, ``suite.module`` and ``suite.points`` for your own training code."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from _plugin_files import REPO, gate_plugin

import suite
from suite.baselines import BASELINES
from suite.build import build_variant, count_params
from suite.errors import SuiteError


def test_importing_suite_stays_cheap():
    """The CLI imports ``suite``: the API's names are there without torch being imported."""
    code = "import sys, suite; assert suite.__all__ == ['build', 'module', 'points']; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_build_returns_the_variant_as_suite_trains_it():
    torch.manual_seed(0)
    model = suite.build("resnet18+cbam@blocks", num_classes=10, image_size=32)
    torch.manual_seed(0)
    reference = build_variant("resnet18+cbam@blocks", "cls", 10, 3, 32).model
    assert isinstance(model, torch.nn.Module) and type(model) is type(reference)
    assert count_params(model) == count_params(reference)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(model.eval()(x), reference.eval()(x))
        assert model(x).shape == (2, 10)
    assert "blocks1" in model.insertion_points()


def test_build_defaults_and_arguments():
    seg = suite.build("unet(width=8)+(se|sa):wsum@dec1", image_size=32)
    assert seg(torch.randn(1, 3, 32, 32)).shape == (1, 1, 32, 32)
    grey = suite.build("unet+se@dec1", image_size=32, in_channels=1, width=8)
    assert grey.insertion_points()["dec1"].channels == 8 and grey(torch.randn(1, 1, 32, 32)).shape == (1, 1, 32, 32)
    assert suite.build("resnet18(width=8)").get_classifier().out_features == 1000, "ImageNet's classes by default"


def test_the_build_module_stays_a_module():
    from suite import build as build_module

    assert build_module.build_variant is build_variant and callable(build_module)


def test_module_builds_one_module_or_composite():
    cbam = suite.module("cbam", channels=64)
    x = torch.randn(2, 64, 5, 7)
    assert cbam(x).shape == x.shape
    wide = suite.module("se(rd_ratio=0.25)", channels=64)
    assert suite.module("se", channels=64, rd_ratio=0.25).fc1.out_channels == wide.fc1.out_channels == 16
    assert suite.module("(se|sa):cat", channels=32)(torch.randn(1, 32, 4, 4)).shape == (1, 32, 4, 4)
    down = suite.module("haar", in_channels=16, out_channels=32, stride=2)
    assert down(torch.randn(1, 16, 8, 8)).shape == (1, 32, 4, 4)


@pytest.mark.parametrize(
    ("call", "phrase"),
    [
        (lambda: suite.module("cbam"), "cbam is an attention module: give channels, e.g. suite.module('cbam', channels=64)"),
        (lambda: suite.module("haar", channels=16), "give in_channels, out_channels, stride"),
        (lambda: suite.module("se", channels=16, bogus=1), "no argument 'bogus'"),
        (lambda: suite.module("(se|sa)", channels=16, rd_ratio=0.5), "a composite takes its members' arguments in its text"),
        (lambda: suite.build("unet+se@dec9"), "unknown"),
        (lambda: suite.build("unet", task="det"), "unknown task 'det'; tasks: cls, seg"),
        (lambda: suite.points("unet+se"), "suite.points takes a baseline, not a variant"),
    ],
)
def test_mistakes_are_one_line_suite_errors(call, phrase):
    with pytest.raises(SuiteError) as err:
        call()
    assert phrase in str(err.value) and "\n" not in str(err.value)


def test_points_lists_the_insertion_points():
    points = suite.points("unet")
    catalog = BASELINES.entry("unet").meta["catalog"]
    assert set(points) == set(catalog.names)
    assert points["dec1"].channels == 64 and points["dec1"].stride == 1 and "attention" in points["dec1"].kinds
    assert suite.points("unet(width=8)")["dec1"].channels == 8 == suite.points("unet", width=8)["dec1"].channels
    assert set(suite.points("vit_tiny", image_size=32)) == set(BASELINES.entry("vit_tiny").meta["catalog"].names)


def test_plugins_load_through_the_api(isolated_plugins, tmp_path):
    path = gate_plugin(tmp_path, "api_gate")
    model = suite.build("unet+api_gate@dec1", image_size=32, width=8, plugins=[str(path)])
    assert model.slots("dec1")[0].filled
    assert suite.module("api_gate", channels=4)(torch.ones(1, 4, 2, 2)).shape == (1, 4, 2, 2)
