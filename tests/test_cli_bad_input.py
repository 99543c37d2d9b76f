"""Bad input at the command line, one row per case: the exit code, one line naming the fix, no traceback,
and the results store byte for byte as it was (its -wal and -shm files too); a rejected ``suite run``
does not create a store either.

Rows run ``suite.cli.main`` in this process (what the ``suite`` console script runs), so the table
stays fast; ``test_run.py`` and ``test_signals.py`` run real subprocesses.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from _dashboard_fixtures import synthetic_grid_store
from _data_fixtures import write_kvasir

from suite import cli
from suite.reports import FORMATS
from suite.store import read_runs
from suite.verdict_names import GATES

STORE_FILES = ("suite.db", "suite.db-wal", "suite.db-shm")
LOOP = "resnet18" + "+se" * 5000

# (command, exit code, phrase of the message); {store} is an existing store, {tmp} a scratch folder.
ROWS = [
    # specs
    ("run -v resnet18+dsconv --dataset digits", 2, "e.g. unet+dsconv"),
    ("run -v resnet18+dsconv@blocks1 --dataset digits", 2, "baselines with conv points: unet"),
    (f"run -v {LOOP} --dataset digits", 2, "more than 16 insertions"),
    ("run -v resnet18+se@blocks1+se@blocks1 --dataset digits", 2, "se is placed twice at resnet18 point 'blocks1'"),
    ("run -v resnet18+se+se(rd_ratio=0.5):residual --dataset digits", 2, "a module goes at most once per point"),
    ("run -v unet+nosuch", 2, "unknown module"),
    ("run -v unet+se --dataset digits", 2, "seg sets:"),
    ("inspect resnet18+dsconv", 2, "e.g. unet+dsconv"),
    # recipe values, all checked before data is read
    ("run -v resnet18+se --dataset digits --lr nan", 2, "recipe lr must be a finite number in (0, 10], got nan"),
    ("run -v resnet18+se --dataset digits --lr inf", 2, "recipe lr must be a finite number"),
    ("run -v resnet18+se --dataset digits --set weight_decay=-5", 2, "recipe weight_decay must be a finite number in [0, 1]"),
    ("run -v resnet18+se --dataset digits --set momentum=.nan", 2, "recipe momentum"),
    ("run -v resnet18+se --dataset digits --set grad_clip=-1", 2, "recipe grad_clip"),
    ("run -v resnet18+se --dataset digits --set warmup_epochs=99 --epochs 2", 2, "longer than the 2 epochs"),
    ("run -v resnet18+se --dataset digits --set nosuch=1", 2, "unknown recipe key 'nosuch'"),
    ("run -v resnet18+se --dataset digits --set model.width=-4", 2, "width must be a positive integer"),
    ("run -v resnet18+se --dataset digits --image-size 3", 2, "resnet18 needs image_size >= 8 px"),
    ("inspect resnet18 --image-size 3", 2, "resnet18 needs image_size >= 8 px"),
    ("run -v unet+se --dataset shapes --image-size 4", 2, "unet needs image_size >= 16 px (four 2x poolings)"),
    ("run -v resnet18+se --dataset digits --image-size 16000", 2, "needs at least"),
    ("run -v resnet18+se(rd_ratio=100000.0) --dataset digits", 2, "GiB (data"),
    ("run -v resnet18+se --dataset digits --profile huge", 2, "profile"),
    ("inspect resnet18 --image-size 100000 --no-latency", 2, "to measure at 100000 px, batch 1, but this machine has"),
    ("inspect resnet18+se(rd_ratio=1000000.0) --runs 3", 2, "lower --image-size or --throughput-batch"),
    # grid options
    ("run -v resnet18+se --dataset digits --folds 2", 2, "--folds 2 gives too few paired folds"),
    ("run -v resnet18+se --dataset digits --seeds 0", 2, "--seeds"),
    ("run -v resnet18+se --dataset nosuch", 2, "unknown dataset"),
    ("run --grid {tmp}/folds-three.yaml", 2, "'folds' must be a whole number, got 'three'"),
    ("run --grid {tmp}/variants-five.yaml", 2, "needs 'variants:' as a list"),
    ("run --grid {tmp}/overrides-list.yaml", 2, "'overrides:' must map recipe keys"),
    ("run --grid {tmp}/latin1.yaml", 2, "is not UTF-8 text (byte 0xe9"),
    ("run --grid {tmp}/deep.yaml", 2, "nests too deeply"),
    ("run --grid {tmp}/bad-lr.yaml", 2, "recipe lr must be a finite number"),
    # studies: sweep, ablate, train fractions
    ("sweep unet+se@enc1+cbam@dec1 --dataset shapes", 2, "suite sweep moves one module at a time"),
    ("sweep unet+se --modes sideways --dataset shapes", 2, "unknown mode 'sideways' in --modes"),
    ("sweep unet+se --points enc9 --dataset shapes", 2, "unknown point 'enc9'"),
    ("sweep unet+dsconv --points skip1 --dataset shapes", 2, "no cell left"),
    ("sweep unet+se --dataset shapes --folds 2", 2, "--folds 2 gives too few paired folds"),
    ("sweep unet+se --dataset shapes --train-fraction 2", 2, "is not a share of the training folds in (0, 1]"),
    ("ablate unet+se --dataset shapes", 2, "needs a spec with 2 to 4 insertions"),
    ("ablate unet+se@enc1+eca@enc2+cbam@enc3+sa@dec1+ge@dec2 --dataset shapes", 2, "which would train 32 specs"),
    ("ablate unet+se@enc1+cbam@dec1 --dataset digits", 2, "seg sets:"),
    ("run -v resnet18+se --dataset digits --train-fraction 0,1", 2, "'0' is not a share of the training folds"),
    ("run -v resnet18+se --dataset digits --train-fraction 0.5 --set train_fraction=0.5", 2, "not --set train_fraction"),
    ("run -v resnet18+se --dataset digits --train-fraction 0.0001,1", 2, "use at least"),
    # data
    ("run -v unet+se --dataset kvasir-seg --data-root {tmp}/loop", 1, "is a symbolic link that cannot be followed"),
    ("data verify kvasir-seg --root {tmp}/loop", 1, "Too many levels of symbolic links"),
    ("run -v unet+se --dataset kvasir-seg --data-root {tmp}/root-loop", 1, "data root {tmp}/root-loop is a symbolic link"),
    ("run -v unet+se --dataset kvasir-seg --data-root {tmp}/unpaired", 1, "suite data verify kvasir-seg --root {tmp}/unpaired"),
    # stores and report options
    ("compare --store {tmp}/sute.db", 1, "no store at {tmp}/sute.db (no such file"),
    ("report --store {tmp}/sute.db", 1, "no such file"),
    ("compare --store {tmp}", 1, "is a folder"),
    ("compare --store {tmp}/garbage.db", 1, "not a readable SQLite database"),
    ("report --format nonsense", 2, "'nonsense' is not one of " + ", ".join(map(repr, FORMATS))),
    ("report --fail-on nonsense", 2, "'nonsense' is not one of " + ", ".join(map(repr, GATES))),
    ("compare --delta many", 2, "invalid value for '--delta'"),
    ("list nonsense", 2, "not one of 'baselines', 'modules', 'points', 'sets'"),
    ("run --nosuch", 2, "no such option: --nosuch"),
    ("nosuch", 2, "no such command 'nosuch'"),
]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with runs, read once so its -wal and -shm files exist, and the scratch files of the rows."""
    folder = tmp_path_factory.mktemp("prepared")
    store = synthetic_grid_store(folder / "suite.db")
    read_runs(store, status=None)
    set_files = {
        "folds-three.yaml": "grids:\n  - variants: [resnet18+se]\n    folds: three\n",
        "variants-five.yaml": "grids:\n  - variants: 5\n",
        "overrides-list.yaml": "grids:\n  - variants: [resnet18+se]\n    overrides: [1, 2]\n",
        "deep.yaml": "grids: " + "[" * 5000 + "]" * 5000 + "\n",
        "bad-lr.yaml": "grids:\n  - variants: [resnet18+se]\n    dataset: digits\n    overrides: {lr: .inf}\n",
    }
    for name, text in set_files.items():
        (folder / name).write_text(text)
    (folder / "latin1.yaml").write_bytes("grids:\n  - variants: [resnet18+se]  # réseau\n".encode("latin-1"))
    (folder / "garbage.db").write_bytes(b"not a database at all" * 50)
    loop = write_kvasir(folder / "loop", count=4) / "Kvasir-SEG" / "images"
    (loop / "a.jpg").symlink_to(loop / "b.jpg")
    (loop / "b.jpg").symlink_to(loop / "a.jpg")
    (folder / "root-loop").symlink_to(folder / "root-loop")
    masks = write_kvasir(folder / "unpaired", count=4) / "Kvasir-SEG" / "masks"
    for name in ("cju0001abc.jpg", "cju0002abc.jpg"):
        (masks / name).unlink()
    return folder


def invoke(args: list[str]) -> tuple[int, str, str]:
    """Run the ``suite`` command line in this process: (exit code, stdout, stderr)."""
    import io
    from contextlib import redirect_stderr, redirect_stdout

    handlers = {signum: signal.getsignal(signum) for signum in cli.STOP_SIGNALS}
    out, err, argv = io.StringIO(), io.StringIO(), sys.argv
    sys.argv = ["suite", *args]
    try:
        with redirect_stdout(out), redirect_stderr(err):
            cli.main()
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    finally:
        sys.argv = argv
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    return code, out.getvalue(), err.getvalue()


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    return {name: (folder / name).read_bytes() if (folder / name).exists() else None for name in STORE_FILES}


@pytest.mark.parametrize(("command", "code", "phrase"), ROWS, ids=[row[0][:60] for row in ROWS])
def test_bad_input_is_one_line_and_leaves_the_store_as_it_was(
    command: str, code: int, phrase: str, prepared: Path, tmp_path: Path
) -> None:
    for name in STORE_FILES:
        shutil.copy2(prepared / name, tmp_path / name)
    before = _snapshot(tmp_path)
    assert before["suite.db-wal"] is not None and before["suite.db-shm"] is not None
    args = [part.replace("{tmp}", str(prepared)) for part in command.split(" ")]
    takes_store = args[0] in ("run", "sweep", "ablate", "compare", "report") and "--store" not in args
    returned, out, err = invoke([*args, "--store", str(tmp_path / "suite.db")] if takes_store else args)
    lines = err.strip().splitlines()
    assert returned == code, err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert phrase.replace("{tmp}", str(prepared)) in lines[0]
    assert "Traceback" not in out + err
    assert _snapshot(tmp_path) == before, "the store files changed"
    if args[0] in ("run", "sweep", "ablate"):
        absent = tmp_path / "new" / "suite.db"
        assert invoke([*args, "--store", str(absent)])[0] == code
        assert not absent.parent.exists(), "a rejected run created a store"


def test_the_hinted_verify_command_reads_the_folder_that_was_given(prepared: Path) -> None:
    root = str(prepared / "unpaired")
    code, _, err = invoke(["run", "-v", "unet+se", "--dataset", "kvasir-seg", "--data-root", root])
    hint = err.split("run `", 1)[1].split("`", 1)[0]
    assert code == 1 and hint == f"suite data verify kvasir-seg --root {root}"
    code, out, err = invoke(hint.split(" ")[1:])
    assert code == 1 and "2 problem(s) in" in err and f"{root}/Kvasir-SEG" in " ".join(err.split())


def _read_only_runner(folder: Path) -> list[str] | None:
    """A command prefix under which ``folder`` is a read-only medium: for root a read-only bind mount in a
    user namespace (root ignores permissions), for other users a folder without write permission."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return []
    if shutil.which("unshare") is None:
        return None
    probe = subprocess.run(["unshare", "-r", "-m", "true"], capture_output=True)
    return ["unshare", "-r", "-m", "sh", "-c", f'mount -o bind,ro "{folder}" "{folder}" && exec "$0" "$@"'] if probe.returncode == 0 else None


def test_a_store_on_a_read_only_medium_is_still_read(prepared: Path, tmp_path: Path) -> None:
    folder = tmp_path / "medium"
    folder.mkdir()
    shutil.copy2(prepared / "suite.db", folder / "suite.db")  # a clean copy: no -wal, no -shm
    runner = _read_only_runner(folder)
    if runner is None:
        pytest.skip("cannot make a read-only medium here: running as root without user namespaces (unshare -r -m)")
    command = [*runner, sys.executable, "-m", "suite", "compare", "--store", str(folder / "suite.db")]
    try:
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"}, timeout=300)
    finally:
        folder.chmod(0o755)
    assert done.returncode == 0, done.stderr
    assert "resnet18+se@blocks" in done.stdout and "holds" in done.stdout
    assert sorted(p.name for p in folder.iterdir()) == ["suite.db"], "nothing was written next to the store"
