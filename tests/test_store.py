"""The results store: round trips, schema versions and migration, refusals, atomicity, concurrency, the DataFrame."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import re
import sqlite3
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from suite._migrations import SCHEMA_VERSION
from suite._store_schema import FRAME_COLUMNS
from suite.errors import StoreError, SuiteError
from suite.per_sample import PerSample
from suite.records import RunRecord, Seeds
from suite.store import Store, provenance, read_runs, read_studies, resolve_store_path
from suite.studies.record import find_study, grid_study

# The runs table exactly as schema v1 created it; frozen here because old files on disk were made by it.
V1_SQL = """
CREATE TABLE runs (
    key TEXT PRIMARY KEY NOT NULL, spec TEXT NOT NULL, baseline TEXT NOT NULL, dataset TEXT NOT NULL,
    manifest_hash TEXT NOT NULL, k INTEGER NOT NULL, fold INTEGER NOT NULL, split_seed INTEGER NOT NULL,
    init_seed INTEGER NOT NULL, order_seed INTEGER NOT NULL, augment_seed INTEGER NOT NULL,
    recipe TEXT NOT NULL, recipe_hash TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('done', 'failed')), error TEXT, metrics TEXT NOT NULL,
    curves TEXT NOT NULL, n_train INTEGER NOT NULL, n_val INTEGER NOT NULL, params INTEGER, gmacs REAL,
    latency_ms REAL, wall_s REAL NOT NULL, device TEXT NOT NULL, provenance TEXT NOT NULL,
    started_at TEXT NOT NULL, finished_at TEXT NOT NULL
);
CREATE INDEX runs_dataset_spec ON runs (dataset, spec);
PRAGMA user_version = 1;
"""
BASE_COLUMNS = FRAME_COLUMNS + ["module", "points"]


def make_record(key: str = "k0", **changes) -> RunRecord:
    """A record with a non-default value in every field."""
    record = RunRecord(
        key=key,
        spec="unet+se@dec1,dec2:residual",
        baseline="unet",
        dataset="isbi2012",
        manifest_hash="m" * 64,
        k=5,
        fold=2,
        seeds=Seeds(split=7, init=3, order=4, augment=5),
        recipe={"lr": 0.01, "epochs": 3, "model": {"width": 16}, "augment": ["hflip", "vflip"]},
        recipe_hash="r1",
        status="failed",
        error="RuntimeError: out of memory",
        metrics={"dice": 0.81, "iou": 0.69},
        per_sample=PerSample([f"{i:03d}" for i in range(6)], {"dice": [0.9, 0.8, 0.7, 0.6, 1.0, 0.86], "iou": [0.5] * 6}),
        test_metrics={"dice": 0.8, "iou": 0.67},
        curves={"epoch": [1, 2, 3], "train_loss": [0.9, 0.5, 0.3], "val_dice": [0.5, 0.7, 0.81]},
        n_train=24,
        n_val=6,
        params=1_234_567,
        params_added=2_048,
        gmacs=3.25,
        latency_ms=4.5,
        baseline_latency_ms=3.9,
        latency_spread_ms=0.2,
        wall_s=12.5,
        device="cpu",
        provenance={"git_commit": "abc-dirty", "versions": {"torch": "2.14.1"}, "command": "suite run -v unet+se"},
        started_at="2025-01-01T00:00:00+00:00",
        finished_at="2025-01-01T00:00:12+00:00",
    )
    return dataclasses.replace(record, **changes)


def count_rows(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM runs").fetchone()[0]


def assert_one_line(err: pytest.ExceptionInfo, path: Path) -> None:
    message = str(err.value)
    assert "\n" not in message and str(path) in message


def test_every_field_of_the_sample_record_differs_from_its_default():
    record = make_record()
    for field in dataclasses.fields(RunRecord):
        if field.default is not dataclasses.MISSING:
            assert getattr(record, field.name) != field.default, field.name
        elif field.default_factory is not dataclasses.MISSING:
            assert getattr(record, field.name) != field.default_factory(), field.name


def test_round_trip_keeps_every_field(tmp_path):
    record = make_record()
    with Store(tmp_path / "suite.db") as store:
        store.write(record)
        assert store.get(record.key) == record
        assert store.get("missing") is None
    with Store(tmp_path / "suite.db") as store:  # and after reopening
        assert store.get(record.key) == record
        assert store.records() == [record]


def test_per_sample_ids_are_stored_once_per_fold_and_values_compactly(tmp_path):
    rng = np.random.default_rng(0)
    ids = [f"train-{i:05d}" for i in sorted(rng.choice(50_000, 10_000, replace=False))]  # a CIFAR-10 fold
    path = tmp_path / "suite.db"
    with Store(path) as store:
        for number, spec in enumerate(("resnet18", "resnet18+se@stage4", "resnet18+eca@stage4")):
            right = 100.0 * (rng.random(10_000) < 0.9)
            store.write(make_record(f"r{number}", spec=spec, per_sample=PerSample(ids, {"accuracy": right})))
        store.write(make_record("other-fold", fold=3, per_sample=PerSample(ids[:5], {"accuracy": [0.0] * 5})))
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM sample_ids").fetchone()[0] == 2  # one id list per fold
        sizes = [row[0] for row in conn.execute("SELECT length(per_sample) FROM runs WHERE key LIKE 'r%'")]
    conn.close()
    assert max(sizes) < 4_000  # 10,000 right/wrong values in under 4 kB (float32 would be 40 kB raw)
    frame = read_runs(path, status=None).set_index("key")
    assert frame.loc["r1", "per_sample"].ids == tuple(ids) and frame.loc["r1", "per_sample"].ids is frame.loc["r2", "per_sample"].ids
    assert frame.loc["other-fold", "per_sample"] == PerSample(ids[:5], {"accuracy": [0.0] * 5})


def test_numpy_scalars_are_stored_as_plain_numbers(tmp_path):
    record = make_record(metrics={"dice": np.float32(0.5)}, params=np.int64(10), curves={"loss": np.array([1.0, 2.0])})
    with Store(tmp_path / "suite.db") as store:
        store.write(record)
        stored = store.get(record.key)
    assert stored.metrics == {"dice": 0.5} and stored.params == 10 and stored.curves == {"loss": [1.0, 2.0]}
    assert type(stored.params) is int


def test_new_store_is_wal_and_versioned(tmp_path):
    path = tmp_path / "nested" / "dir" / "suite.db"
    with Store(path) as store:
        assert store.path == path and store.schema_version() == SCHEMA_VERSION
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        indexes = {row[1]: row for row in conn.execute("SELECT * FROM sqlite_master WHERE type = 'index'")}
    assert {"runs_dataset_spec", "runs_pairing"} <= set(indexes)


def test_resolve_store_path_prefers_argument_then_env_then_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SUITE_STORE", raising=False)
    assert resolve_store_path() == tmp_path / "results" / "suite.db"
    monkeypatch.setenv("SUITE_STORE", str(tmp_path / "env.db"))
    assert resolve_store_path() == tmp_path / "env.db"
    assert resolve_store_path("given.db") == tmp_path / "given.db"


def test_migration_from_v1_keeps_rows_and_adds_the_columns_of_every_later_version(tmp_path):
    path = tmp_path / "old.db"
    old = make_record(key="old")
    with sqlite3.connect(path) as conn:
        conn.executescript(V1_SQL)
        row = {
            "key": old.key, "spec": old.spec, "baseline": old.baseline, "dataset": old.dataset,
            "manifest_hash": old.manifest_hash, "k": old.k, "fold": old.fold, "split_seed": 7, "init_seed": 3,
            "order_seed": 4, "augment_seed": 5, "recipe": json.dumps(old.recipe), "recipe_hash": old.recipe_hash,
            "status": old.status, "error": old.error, "metrics": json.dumps(old.metrics),
            "curves": json.dumps(old.curves), "n_train": old.n_train, "n_val": old.n_val, "params": old.params,
            "gmacs": old.gmacs, "latency_ms": old.latency_ms, "wall_s": old.wall_s, "device": old.device,
            "provenance": json.dumps(old.provenance), "started_at": old.started_at, "finished_at": old.finished_at,
        }  # fmt: skip
        conn.execute(f"INSERT INTO runs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
    conn.close()
    unmigrated = read_runs(path, status=None)  # read-only readers cope with an old store as it is
    assert list(unmigrated["key"]) == ["old"] and pd.isna(unmigrated.loc[0, "params_added"])
    assert pd.isna(unmigrated.loc[0, "baseline_latency_ms"]) and pd.isna(unmigrated.loc[0, "latency_spread_ms"])
    assert unmigrated.loc[0, "per_sample"] is None  # per-sample values came with schema v6
    assert read_studies(path) == []  # the studies table came with schema v4

    with Store(path) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.get("old") == dataclasses.replace(
            old, test_metrics={}, params_added=None, baseline_latency_ms=None, latency_spread_ms=None, per_sample=None
        )
        store.write(make_record(key="new"))
        assert store.get("new") == make_record(key="new")
    with sqlite3.connect(path) as conn:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
    assert {"test_metrics", "params_added", "baseline_latency_ms", "latency_spread_ms", "per_sample", "sample_ids"} <= columns


def test_newer_schema_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "future.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE runs (key TEXT PRIMARY KEY)")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    with pytest.raises(StoreError, match=rf"newer suite \(schema {SCHEMA_VERSION + 1} > {SCHEMA_VERSION}\)") as err:
        Store(path)
    assert_one_line(err, path)
    with pytest.raises(StoreError, match="newer suite"):
        read_runs(path)
    assert path.read_bytes() == before and path.stat().st_mtime_ns == mtime


@pytest.mark.parametrize("content", ["random", "sqlite_header_then_garbage"])
def test_corrupt_file_is_refused_in_one_line(tmp_path, content):
    path = tmp_path / "suite.db"
    garbage = random.Random(0).randbytes(8192)
    path.write_bytes(garbage if content == "random" else b"SQLite format 3\x00" + garbage)
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a readable SQLite database") as err:
        Store(path)
    assert_one_line(err, path)
    with pytest.raises(StoreError, match="not a readable SQLite database"):
        read_runs(path)
    assert path.read_bytes() == before


def test_other_sqlite_database_is_not_taken_over(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE patients (id INTEGER)")
    conn.close()
    with pytest.raises(StoreError, match="tables: patients"):
        Store(path)
    with sqlite3.connect(path) as conn:
        assert [row[0] for row in conn.execute("SELECT name FROM sqlite_master")] == ["patients"]
    conn.close()


def test_unwritable_location_is_one_line_error(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    path = blocker / "results" / "suite.db"
    with pytest.raises(StoreError, match="cannot write the store") as err:
        Store(path)
    assert_one_line(err, path)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_folder_is_one_line_error(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o555)
    with pytest.raises(StoreError, match="cannot write the store") as err:
        Store(folder / "suite.db")
    assert_one_line(err, folder / "suite.db")


def test_same_key_is_never_duplicated(tmp_path):
    path = tmp_path / "suite.db"
    with Store(path) as store:
        assert store.write(make_record(status="done", error=None)) is True
        # Another driver finished the run first: the write is skipped quietly, the stored row stays.
        assert store.write(make_record(status="done", error=None, wall_s=99.0)) is False
        assert store.write(make_record(status="done", error=None, wall_s=99.0), replace=True) is False
        assert store.get("k0").wall_s == 12.5
    assert count_rows(path) == 1


def test_failed_run_can_be_replaced_by_its_retry(tmp_path):
    path = tmp_path / "suite.db"
    with Store(path) as store:
        store.write(make_record(status="failed"))
        assert store.write(make_record(status="done", error=None)) is False
        assert store.get("k0").status == "failed"
        assert store.write(make_record(status="done", error=None), replace=True) is True
        assert store.get("k0").status == "done" and store.keys("failed") == set()
    assert count_rows(path) == 1


def test_only_finished_runs_are_written(tmp_path):
    with Store(tmp_path / "suite.db") as store:
        with pytest.raises(StoreError, match="only finished runs"):
            store.write(make_record(status="running"))
        assert store.keys() == set() and not store.has("k0")
        store.write(make_record(key="a", status="done", error=None))
        store.write(make_record(key="b", status="failed"))
        assert store.keys() == {"a", "b"} and store.keys("done") == {"a"} and store.keys("failed") == {"b"}
        assert store.has("a") and store.has("b") and not store.has("c")


def test_write_that_fails_midway_leaves_no_row_and_releases_the_lock(tmp_path):
    path = tmp_path / "suite.db"
    with Store(path) as store:
        store.write(make_record(key="kept"))
        with pytest.raises(StoreError, match="'curves' cannot be stored as JSON"):
            store.write(make_record(key="broken", curves={"epoch": [object()]}))
        assert not store.has("broken") and store.keys() == {"kept"}
        with Store(path) as other:  # no transaction left open: another connection can write at once
            other.write(make_record(key="after"))
        store.write(make_record(key="again"))
    assert count_rows(path) == 3


def test_reader_sees_a_consistent_snapshot_while_another_connection_writes(tmp_path):
    path = tmp_path / "suite.db"
    with Store(path) as writer:
        writer.write(make_record(key="first"))
        reader = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, isolation_level=None, timeout=1)
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
        writer.write(make_record(key="second"))  # commits while the read transaction is open (WAL)
        assert reader.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
        assert list(read_runs(path, status=None)["key"]) == ["first", "second"]
        reader.execute("COMMIT")
        assert reader.execute("SELECT count(*) FROM runs").fetchone()[0] == 2
        reader.close()


def test_runs_frame_columns_filters_and_order(tmp_path):
    cls = dict(baseline="resnet18", dataset="cifar10", metrics={"accuracy": 90.0, "macro_f1": 89.0}, test_metrics={})
    records = [
        make_record("s1", status="done", error=None, fold=1, seeds=Seeds(0, 0, 0, 0)),
        make_record("s0", status="done", error=None, fold=0, seeds=Seeds(0, 1, 1, 1)),
        make_record("s00", status="done", error=None, fold=0, seeds=Seeds(0, 0, 0, 0), test_metrics={}),
        make_record("b0", status="done", error=None, spec="unet", params_added=None),
        make_record("f0", status="failed"),
        make_record("c0", status="done", error=None, spec="resnet18+se@stage3+cbam@stage4", **cls),
    ]
    with Store(tmp_path / "suite.db") as store:
        for record in records:
            store.write(record)
        seg, every, cifar = store.runs(dataset="isbi2012"), store.runs(status=None), store.runs(dataset="cifar10")
        frame = store.runs()

    assert list(seg.columns) == FRAME_COLUMNS + ["val_dice", "val_iou", "test_dice", "test_iou", "module", "points"]
    assert list(seg["key"]) == ["b0", "s00", "s0", "s1"]  # by spec, then fold, then seed
    assert set(every["key"]) == {r.key for r in records} and set(frame["key"]) == set(every["key"]) - {"f0"}
    assert list(cifar.columns) == FRAME_COLUMNS + ["val_accuracy", "val_macro_f1", "module", "points"]
    assert cifar.loc[0, "module"] == "se+cbam" and cifar.loc[0, "points"] == "stage3+stage4"
    row = seg.set_index("key").loc["s0"]
    assert (row["seed"], row["split_seed"], row["order_seed"], row["augment_seed"]) == (1, 0, 1, 1)
    assert row["module"] == "se" and row["points"] == "dec1,dec2" and row["recipe"] == make_record().recipe
    assert row["val_dice"] == 0.81 and row["test_iou"] == 0.67 and row["provenance"]["git_commit"] == "abc-dirty"
    baseline = seg.set_index("key").loc["b0"]
    assert baseline["module"] == "" and baseline["points"] == "" and pd.isna(baseline["params_added"])
    assert pd.isna(seg.set_index("key").loc["s00", "test_dice"])
    assert frame[[c for c in frame.columns if c.startswith(("val_", "test_"))]].dtypes.eq("float64").all()
    pd.testing.assert_frame_equal(read_runs(tmp_path / "suite.db"), frame)


def test_records_filters(tmp_path):
    with Store(tmp_path / "suite.db") as store:
        for fold in range(3):
            store.write(make_record(f"k{fold}", fold=fold, seeds=Seeds(0, fold % 2, 0, 0)))
        assert [r.key for r in store.records(fold=[0, 2])] == ["k0", "k2"]
        assert [r.key for r in store.records(seed=1, dataset="isbi2012")] == ["k1"]
        assert store.records(dataset="other") == []
        with pytest.raises(StoreError, match="filter by one of: seed, key"):
            store.records(colour="red")


def test_read_runs_on_missing_file_is_empty_with_columns(tmp_path):
    path = tmp_path / "nothing.db"
    frame = read_runs(path)
    assert frame.empty and list(frame.columns) == BASE_COLUMNS
    assert not path.exists()


def test_provenance_names_versions_commit_and_command():
    import torch

    info = provenance(["suite", "run", "--variant", "unet+se@dec1,dec2"])
    assert info["versions"]["torch"] in (torch.__version__, torch.__version__.split("+")[0])
    assert {"suite", "torchvision", "timm", "smp", "torchmetrics", "fvcore", "numpy", "python"} <= set(info["versions"])
    assert info["command"] == "suite run --variant unet+se@dec1,dec2"
    assert info["cuda"] == torch.version.cuda and info["host"] and info["platform"] and info["device_name"]
    root = Path(__file__).resolve().parents[1]
    head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode == 0:
        assert re.fullmatch(re.escape(head.stdout.strip()) + r"(-dirty)?", info["git_commit"])
    else:
        assert info["git_commit"] is None


def test_a_study_is_stored_once_per_plan_and_read_back(tmp_path):
    path = tmp_path / "suite.db"
    design = {"variants": ["unet+se"], "folds": 5}
    members = {"unet+se@dec1": "r1", "unet+cbam@dec1": "r1"}
    study = grid_study(design, list(members), "shapes", "m" * 64, members)
    with Store(path) as store:
        first = store.add_study(study)
        again = store.add_study(grid_study({**design, "seeds": 3}, list(reversed(members)), "shapes", "m" * 64, members))
        assert again == first and len(store.studies()) == 1  # same members, same study: the first design is kept
        other = store.add_study(grid_study(design, ["unet+se@dec1"], "shapes", "m" * 64, members))
    stored = read_studies(path)
    assert {s.id for s in stored} == {first.id, other.id}
    (read_first,) = [s for s in stored if s.id == first.id]
    assert read_first.members == tuple(sorted((v, "shapes", "m" * 64, "r1") for v in members))
    assert read_first.design == design and first.plan().members == frozenset(read_first.members)
    assert find_study(stored, first.name) == read_first and find_study(stored, first.id[:6]) == read_first
    with pytest.raises(SuiteError, match="is not a study in the store"):
        find_study(stored, "grid-nothere")
