"""``suite check MODULE|PATH.py``: the contract suite on one module, one line per failure, exit code 1 on failure."""

from __future__ import annotations

import re

from _plugin_files import BROKEN, EXAMPLE, run_cli

from suite import contract


def _summary(out: str) -> str:
    return out.strip().splitlines()[-1]


def test_a_new_users_plugin_passes_every_check(isolated_plugins, capsys):
    code, out, err = run_cli(isolated_plugins, capsys, "check", EXAMPLE)
    assert code == 0, out + err
    total = len(contract.checks_for("my_attn"))
    assert out.splitlines()[0] == f"my_attn: attention module (plugin my_attn.py), {total} checks"
    assert _summary(out) == f"my_attn: all {total} checks passed"
    assert re.search(r"params 3 and [\d.e-]+ GMACs \(1 multiply-add = 1 MAC\) at width-64 U-Net level 1", out)
    assert {c.baseline for c in contract.checks_for("my_attn") if c.name == "placement"} >= {"unet", "resnet18", "vit_tiny", "swin_tiny"}


def test_a_module_that_breaks_at_13x17_fails_with_one_line_naming_the_point_and_sizes(isolated_plugins, capsys):
    code, out, err = run_cli(isolated_plugins, capsys, "check", BROKEN, "--baseline", "unet")
    assert code == 1
    lines = out.strip().splitlines()
    header = lines.index(next(line for line in lines if line.startswith("check ")))
    failures = lines[header + 1 : -1]
    assert failures and all(len(line) < 240 for line in failures)
    at_dec2 = [line for line in failures if line.startswith("shape ") and "unet dec2 (channels=16) at 13x17" in line]
    assert len(at_dec2) == 1 and "output (2, 16, 13, 13), expected (2, 16, 13, 17)" in at_dec2[0]
    assert all(re.search(r" at (13x17|1x3), batch \d", line) for line in failures), "only non-square maps fail"
    assert re.fullmatch(r"square_only: \d+ of \d+ checks failed", _summary(out))
    assert not any("placement" in line for line in failures), "square maps in a network hide the bug"


def test_a_built_in_module_and_a_composite_pass(isolated_plugins, capsys):
    expected = {"eca": "eca: attention module (built-in)", "(se|sa):wsum": "(sa|se):wsum: attention module (composite)"}
    for target, heading in expected.items():
        code, out, err = run_cli(isolated_plugins, capsys, "check", target, "--baseline", "unet")
        assert code == 0, out + err
        assert out.splitlines()[0].startswith(heading + ", ")
        assert _summary(out).endswith("checks passed")


def test_an_unknown_module_is_one_line_listing_the_modules(isolated_plugins, capsys):
    code, out, err = run_cli(isolated_plugins, capsys, "check", "sqeeze")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("error: unknown module 'sqeeze'; valid modules: ") and "se, " in err


def test_a_baseline_glob_that_matches_nothing_is_one_line(isolated_plugins, capsys):
    code, out, err = run_cli(isolated_plugins, capsys, "check", "se", "--baseline", "alexnet*")
    assert code == 2 and err.startswith("error: --baseline 'alexnet*' matches no baseline; baselines: resnet18")
