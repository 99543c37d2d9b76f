"""Modules from outside suite: ``--plugin PATH.py`` on any command, ``SUITE_PLUGINS``, the entry-point
group ``suite.modules``; where each module comes from; one-line errors naming the file; and the plugin
file's SHA-256 in the key and provenance of every run that uses it."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from _plugin_files import EXAMPLE, REPO, gate_plugin, run_cli, write

from suite import plugins
from suite.build import build_variant
from suite.errors import SuiteError
from suite.modules import MODULES
from suite.records import Job, Seeds
from suite.spec import canonical


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_plugin_registers_like_a_built_in_and_records_its_origin(isolated_plugins, tmp_path):
    path = gate_plugin(tmp_path)
    assert plugins.use([str(path)]) == ["my_gate"]
    entry = MODULES.entry("my_gate")
    assert entry.kind == "attention" and entry.paper == "A channel gate"
    assert entry.origin.kind == "plugin" and entry.origin.sha256 == sha256(path)
    assert plugins.origin_label("my_gate") == "plugin my_gate.py" and plugins.origin_label("se") == "built-in"
    assert os.environ[plugins.ENV] == str(path), "processes started from here load it too"
    built = build_variant("unet+my_gate(scale=2)@dec1", "seg", 1, 3, 32, width=8)
    assert built.key == "unet+my_gate(scale=2.0)@dec1" and built.placements[0].params == 8
    assert plugins.use([str(path)]) == ["my_gate"], "loading a file twice is loading it once"


def test_suite_plugins_loads_every_file_it_names(isolated_plugins, tmp_path):
    first, second = gate_plugin(tmp_path, "gate_one"), gate_plugin(tmp_path, "gate_two")
    isolated_plugins.setenv(plugins.ENV, f"{first}{os.pathsep}{second}")
    plugins.load_configured()
    assert {"gate_one", "gate_two"} <= set(MODULES.list())


def test_suite_plugins_reaches_a_fresh_process(tmp_path):
    path = gate_plugin(tmp_path, "env_gate")
    env = {**os.environ, plugins.ENV: str(path), "COLUMNS": "240"}
    done = subprocess.run(
        [sys.executable, "-m", "suite", "list", "modules", "--pattern", "env_*"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    row = next(line for line in done.stdout.splitlines() if "env_gate" in line)
    assert "plugin env_gate.py" in row and "attention" in row


def test_the_plugin_option_works_anywhere_and_repeats(isolated_plugins, capsys, tmp_path):
    first, second = gate_plugin(tmp_path, "gate_a"), gate_plugin(tmp_path, "gate_b")
    code, out, err = run_cli(isolated_plugins, capsys, "--plugin", first, "list", "modules", "--plugin", second)
    assert code == 0, err
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.startswith("│")}
    assert "plugin gate_a.py" in rows["gate_a"] and "plugin gate_b.py" in rows["gate_b"]
    assert "built-in" in rows["se"]
    code, out, err = run_cli(
        isolated_plugins, capsys, "inspect", "unet+gate_a+gate_b@enc1", f"--plugin={first}", "--image-size", "32",
        "--width", "8", "--no-latency", "--json",
    )
    assert code == 0, err
    assert json.loads(out)["spec"] == "unet+gate_a@dec1,dec2,dec3,dec4+gate_b@enc1"


def test_options_are_hoisted_to_the_front_but_not_past_a_double_dash():
    argv = ["inspect", "x", "--plugin", "a.py", "--json", "--plugin=b.py", "--", "--plugin", "c.py"]
    assert plugins.hoist_options(argv) == [
        "--plugin", "a.py", "--plugin=b.py", "inspect", "x", "--json", "--", "--plugin", "c.py"
    ]


@pytest.fixture
def installed(isolated_plugins, tmp_path):
    """Install a distribution (a dist-info folder on sys.path) whose ``suite.modules`` entry point names a
    module of the given source; the module is forgotten again after the test."""
    names = []

    def install(distribution: str, module: str, source: str) -> Path:
        root = tmp_path / distribution
        root.mkdir()
        path = write(root, f"{module}.py", source)
        info = root / f"{module}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text(f"[suite.modules]\nattention = {module}\n")
        isolated_plugins.syspath_prepend(str(root))
        names.append(module)
        return path

    yield install
    for module in names:
        sys.modules.pop(module, None)


def test_an_installed_package_registers_through_its_entry_point(installed):
    from _plugin_files import GATE

    path = installed("my-attn-pkg", "my_attn_pkg", GATE.format(name="pkg_gate"))
    plugins.load_entry_points()
    assert plugins.origin_label("pkg_gate") == "package my-attn-pkg 1.0"
    origin = MODULES.entry("pkg_gate").origin
    assert origin.sha256 == sha256(path) and origin.file == str(path)
    assert plugins.fingerprints(canonical("unet+pkg_gate")) == {"pkg_gate": origin.sha256}
    plugins.load_entry_points()  # again: each entry point is loaded once
    assert MODULES.entry("pkg_gate").origin == origin


@pytest.mark.parametrize(
    ("source", "phrase"),
    [
        ("raise RuntimeError('no GPU driver')\n", "failed to import: RuntimeError: no GPU driver"),
        ("x = 1\n", "registers no module"),
    ],
)
def test_a_broken_entry_point_names_the_package(installed, source, phrase):
    installed("broken-pkg", "broken_pkg_module", source)
    with pytest.raises(SuiteError) as err:
        plugins.load_entry_points()
    message = str(err.value)
    assert message.startswith("package broken-pkg 1.0") and phrase in message, message
    assert "\n" not in message


BROKEN_FILES = {
    "a name of suite's": ("dup.py", 'from suite.registry import MODULES\nMODULES.register("se", kind="attention")(lambda channels: None)\n',
                          "module 'se' is already registered (built-in); give yours another name"),
    "an import error": ("imports.py", "import torch\nx = undefined_name + 1\n",
                        "failed to import: NameError: name 'undefined_name' is not defined (line 2)"),
    "a syntax error": ("syntax.py", "def f(:\n    pass\n", "failed to import: SyntaxError: invalid syntax (line 1)"),
    "nothing registered": ("nothing.py", "x = 1\n", "registers no module; decorate its builder with"),
    "a wrong builder": ("signature.py", 'from suite.registry import MODULES\nMODULES.register("sig", kind="attention")(lambda dim, extra: None)\n',
                        "module 'sig' is an attention module, whose builder is (channels, **kw)"),
    "an unknown kind": ("kind.py", 'from suite.registry import MODULES\nMODULES.register("knd", kind="norm")(lambda channels: None)\n',
                        "module 'knd' has kind 'norm'; give kind= one of attention, conv, fusion, up, down"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BROKEN_FILES))
def test_a_broken_plugin_is_one_line_naming_the_file(case, isolated_plugins, capsys, tmp_path):
    filename, source, phrase = BROKEN_FILES[case]
    path = write(tmp_path, filename, source)
    before = set(MODULES.list())
    code, out, err = run_cli(isolated_plugins, capsys, "list", "baselines", "--plugin", path)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"error: plugin {path}") and phrase in err, err
    assert set(MODULES.list()) == before, "nothing half-registered"
    assert plugins.ENV not in os.environ


def test_a_plugin_that_fails_after_registering_leaves_nothing_registered(isolated_plugins, tmp_path):
    path = gate_plugin(tmp_path, "half_gate", extra="\nraise ImportError('needs scipy>=9')\n")
    with pytest.raises(SuiteError, match=r"failed to import: ImportError: needs scipy>=9 \(line \d+\)"):
        plugins.use([str(path)])
    assert "half_gate" not in MODULES
    assert "half_gate" not in MODULES.list()


def test_two_plugins_with_one_name_name_the_first_one(isolated_plugins, tmp_path):
    first = gate_plugin(tmp_path, "same_gate")
    (tmp_path / "other").mkdir()
    second = gate_plugin(tmp_path / "other", "same_gate", filename="copy.py")
    plugins.use([str(first)])
    with pytest.raises(SuiteError) as err:
        plugins.use([str(second)])
    assert f"plugin {second}" in str(err.value) and "already registered (plugin same_gate.py)" in str(err.value)


def _job(spec: str, plugins_: dict | None = None) -> Job:
    return Job(
        spec=spec, dataset="shapes", data_root=None, k=3, fold=1, seeds=Seeds.from_repeat(0, 0),
        manifest_hash="m" * 64, recipe={}, recipe_hash="r" * 16, plugins=plugins_ or {},
    )


def test_keys_of_built_in_modules_stay_what_they_were():
    """The key this job had before plugins existed, so existing stores stay valid."""
    assert _job("unet+se@dec1,dec2,dec3,dec4").key == "20cd09f451672e92"


def test_the_plugin_files_hash_is_part_of_the_key(isolated_plugins, tmp_path):
    path = gate_plugin(tmp_path)
    plugins.use([str(path)])
    spec = canonical("unet+my_gate+se@enc1")
    found = plugins.fingerprints(spec)
    assert found == {"my_gate": sha256(path)}
    assert plugins.fingerprints(canonical("unet+(se|my_gate)")) == found, "members of a composite count too"
    assert plugins.fingerprints(canonical("unet+se")) == {}
    keys = {_job(str(spec)).key, _job(str(spec), found).key, _job(str(spec), {"my_gate": "0" * 64}).key}
    assert len(keys) == 3
    assert plugins.provenance(spec) == {
        "plugins": {"my_gate": {"origin": "plugin my_gate.py", "file": str(path.resolve()), "sha256": sha256(path)}}
    }


@pytest.mark.slow
def test_a_plugin_trains_and_an_edited_plugin_trains_again(isolated_plugins, capsys, tmp_path):
    """The done-when of a new user's plugin: ``suite run --variant unet+my_attn --plugin my_attn.py``
    trains it, records the file's SHA-256; after an edit the variant trains again, the baseline does not."""
    from suite.store import read_runs

    plugin = tmp_path / "my_attn.py"
    plugin.write_bytes(EXAMPLE.read_bytes())
    store = tmp_path / "suite.db"
    args = ["run", "--variant", "unet+my_attn", "--plugin", plugin, "--dataset", "shapes", "--folds", "3",
            "--epochs", "1", "--image-size", "16", "--set", "model.width=4", "--store", store]  # fmt: skip
    code, out, err = run_cli(isolated_plugins, capsys, *args)
    assert code == 0, err
    runs = read_runs(store, status=None)
    variant = runs[runs["spec"] == "unet+my_attn@dec1,dec2,dec3,dec4"]
    assert len(variant) == 3 and set(variant["status"]) == {"done"}
    recorded = variant["provenance"].iloc[0]["plugins"]["my_attn"]
    assert recorded["sha256"] == sha256(plugin) and recorded["origin"] == "plugin my_attn.py"

    plugin.write_text(plugin.read_text().replace("kernel_size: int = 3", "kernel_size: int = 5"))
    isolated_plugins.setattr(plugins, "_loaded_files", {})
    MODULES.unregister(["my_attn"])
    isolated_plugins.delenv(plugins.ENV, raising=False)
    code, out, err = run_cli(isolated_plugins, capsys, *args)
    assert code == 0, err
    runs = read_runs(store, status=None)
    assert len(runs) == 9, "the baseline's 3 runs are shared; the edited plugin's 3 are new"
    edited = runs[runs["spec"] == "unet+my_attn@dec1,dec2,dec3,dec4"]
    assert {p["plugins"]["my_attn"]["sha256"] for p in edited["provenance"]} == {
        recorded["sha256"], sha256(plugin)
    }
    assert edited["key"].is_unique


def test_an_example_plugin_ships_with_the_repository():
    assert EXAMPLE.is_file() and "@MODULES.register(\"my_attn\"" in EXAMPLE.read_text()


def test_jobs_of_a_grid_carry_the_hash_of_the_plugins_they_use(isolated_plugins, tmp_path):
    from suite.grid import GridRequest, plan

    path = gate_plugin(tmp_path)
    plugins.use([str(path)])
    grid = plan(GridRequest(variants=["unet+my_gate"], dataset="shapes", folds=3, overrides={"image_size": 16}))
    by_spec = {job.spec: job for job in grid.jobs}
    assert by_spec["unet"].plugins == {}
    assert by_spec["unet+my_gate@dec1,dec2,dec3,dec4"].plugins == {"my_gate": sha256(path)}
    plain = replace(by_spec["unet+my_gate@dec1,dec2,dec3,dec4"], plugins={})
    assert plain.key != by_spec["unet+my_gate@dec1,dec2,dec3,dec4"].key
