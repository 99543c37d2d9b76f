"""Fold manifests: complete and disjoint, stratified, groups whole, reused, and byte-identical across processes."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import torch
from _data_fixtures import write_busi, write_glas

from suite.datasets import LoadedDataset, load_dataset, make_manifest
from suite.errors import DataError

ROOT = Path(__file__).resolve().parents[1]


def _assert_partition(manifest, data: LoadedDataset) -> None:
    seen = [i for fold in manifest.folds for i in fold]
    assert sorted(seen) == sorted(data.ids) and len(seen) == len(set(seen)), "every sample validates exactly once"
    for fold in range(manifest.k):
        train, val = manifest.split(fold, data.ids)
        assert sorted(train.tolist() + val.tolist()) == list(range(len(data)))
        assert {data.ids[i] for i in val.tolist()} == set(manifest.folds[fold])
        assert manifest.n_val(fold) == len(val) and manifest.n_train(fold) == len(train)


def _within_one(counts: list[int]) -> bool:
    return max(counts) - min(counts) <= 1


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    return tmp_path / "folds"


def test_digits_folds_are_stratified(manifests: Path):
    data = load_dataset("digits", image_size=8)
    manifest = make_manifest(data, 5, 0, manifests)
    _assert_partition(manifest, data)
    assert manifest.splitter.startswith("StratifiedKFold")
    label = dict(zip(data.ids, data.targets.tolist()))
    for cls in range(10):
        per_fold = [sum(label[i] == cls for i in fold) for fold in manifest.folds]
        assert _within_one(per_fold), f"class {cls}: {per_fold}"


def test_cvc_folds_keep_sequences_whole(shared_data: Path, manifests: Path):
    data = load_dataset("cvc-clinicdb", shared_data / "CVC-ClinicDB-256", image_size=32)
    manifest = make_manifest(data, 5, 0, manifests)
    _assert_partition(manifest, data)
    assert manifest.splitter.startswith("GroupKFold")
    group = dict(zip(data.ids, data.groups))
    folds_of_group: dict[str, set[int]] = {}
    for fold, ids in enumerate(manifest.folds):
        for i in ids:
            folds_of_group.setdefault(group[i], set()).add(fold)
    assert len(folds_of_group) == 29 and all(len(f) == 1 for f in folds_of_group.values())


def test_membrane_folds_are_contiguous_blocks_of_the_stack(shared_data: Path, manifests: Path):
    """Consecutive sections look alike: a validation slice's neighbours must not be in its training part."""
    data = load_dataset("isbi2012-membrane", shared_data / "isbi2012-membrane", image_size=16)
    manifest = make_manifest(data, 5, 0, manifests)
    _assert_partition(manifest, data)
    assert manifest.kind == "contiguous" and [len(f) for f in manifest.folds] == [6] * 5
    for fold in manifest.folds:
        numbers = [int(i) for i in fold]
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), f"fold {fold} is not one block"
    with_k3 = make_manifest(data, 3, 0, manifests)
    inside = [int(i) for fold in with_k3.folds for i in fold[1:-1]]  # a block's inner slices
    train_of = {int(i): set(data.ids) - set(fold) for fold in with_k3.folds for i in fold}
    assert all(str(n - 1) not in train_of[n] and str(n + 1) not in train_of[n] for n in inside)
    assert make_manifest(data, 5, 1, manifests).folds == manifest.folds, "blocks do not depend on the seed"


def test_every_card_with_an_order_or_groups_gets_the_matching_fold_kind(tmp_path: Path, manifests: Path):
    digits = load_dataset("digits", image_size=8)
    assert make_manifest(digits, 3, 0, manifests).kind == "stratified"
    busi = load_dataset("busi", write_busi(tmp_path / "busi", {"benign": 9, "malignant": 6, "normal": 4}), image_size=8)
    assert make_manifest(busi, 3, 0, manifests).kind == "stratified"


def test_busi_folds_balance_the_class_strata(tmp_path: Path, manifests: Path):
    data = load_dataset("busi", write_busi(tmp_path / "busi", {"benign": 9, "malignant": 6, "normal": 4}), image_size=8)
    manifest = make_manifest(data, 3, 0, manifests)
    _assert_partition(manifest, data)
    stratum = dict(zip(data.ids, data.strata))
    for name in ("benign", "malignant", "normal"):
        assert _within_one([Counter(stratum[i] for i in fold)[name] for fold in manifest.folds])


def test_manifest_is_found_not_rewritten(manifests: Path):
    data = load_dataset("digits", image_size=8)
    first = make_manifest(data, 4, 7, manifests)
    stamp = first.path.stat().st_mtime_ns
    again = make_manifest(data, 4, 7, manifests)
    assert again.path == first.path and again.sha256 == first.sha256 and first.path.stat().st_mtime_ns == stamp
    assert first.sha256 == hashlib.sha256(first.path.read_bytes()).hexdigest()
    payload = json.loads(first.path.read_text())
    assert payload["k"] == 4 and payload["seed"] == 7 and payload["folds"] == first.folds
    assert not list(manifests.glob("*.tmp"))


def test_split_refuses_other_samples(manifests: Path):
    data = load_dataset("digits", image_size=8)
    manifest = make_manifest(data, 5, 0, manifests)
    with pytest.raises(DataError, match="made for other samples"):
        manifest.split(0, data.ids[:-1])
    with pytest.raises(DataError, match="folds are 0..4"):
        manifest.split(5, data.ids)


def test_k_below_two_is_refused(manifests: Path):
    with pytest.raises(DataError, match="use k=2 or more"):
        make_manifest(load_dataset("digits", image_size=8), 1, 0, manifests)


_PROGRAM = """
import sys
from suite.datasets import load_dataset, make_manifest
for name, root in (("cvc-clinicdb", sys.argv[1]), ("digits", None)):
    print(make_manifest(load_dataset(name, root, image_size=8), 5, 0, sys.argv[2] + "/" + name).sha256)
"""


def test_same_bytes_in_fresh_processes(shared_data: Path, tmp_path: Path):
    """Two fresh interpreters (different hash seeds) write byte-identical manifests (grouped and stratified)."""
    cvc = shared_data / "CVC-ClinicDB-256"
    load_dataset("cvc-clinicdb", cvc, image_size=8)  # decoded once here; the children read the disk cache
    load_dataset("digits", image_size=8)
    jobs = []
    for run in range(2):
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": str(run)}
        command = [sys.executable, "-c", _PROGRAM, str(cvc), str(tmp_path / f"run{run}")]
        jobs.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = []
    for job in jobs:
        out, err = job.communicate(timeout=300)
        assert job.returncode == 0, err
        outputs.append(out.split())
    assert outputs[0] == outputs[1] and len(set(outputs[0])) == 2
    for name in ("cvc-clinicdb", "digits"):
        (first,) = (tmp_path / "run0" / name).iterdir()
        (second,) = (tmp_path / "run1" / name).iterdir()
        assert first.name == second.name and first.read_bytes() == second.read_bytes()


def test_cls_labels_drive_stratification_not_ids():
    data = LoadedDataset(
        name="toy",
        task="cls",
        classes=["a", "b"],
        in_channels=1,
        images=torch.zeros(20, 1, 2, 2, dtype=torch.uint8),
        targets=torch.tensor([0] * 15 + [1] * 5),
        ids=[f"s{i}" for i in range(20)],
    )
    manifest = make_manifest(data, 5, 0, Path(os.environ["SUITE_CACHE"]) / "toy-folds")
    assert [sum(i in {f"s{j}" for j in range(15, 20)} for i in fold) for fold in manifest.folds] == [1] * 5


def test_glas_keeps_patients_whole_and_refuses_a_folder_without_its_patient_table(tmp_path: Path, manifests: Path):
    root = write_glas(tmp_path / "glas")
    data = load_dataset("glas", root, image_size=8)
    manifest = make_manifest(data, 3, 0, manifests)
    assert manifest.kind == "grouped"
    patient = dict(zip(data.ids, data.groups))
    for fold in manifest.folds:
        others = {patient[i] for other in manifest.folds if other is not fold for i in other}
        assert not {patient[i] for i in fold} & others, "a patient's images span two folds"
    next(root.rglob("Grade.csv")).unlink()
    with pytest.raises(DataError, match="Grade.csv is missing") as err:
        load_dataset("glas", root, image_size=8)
    assert "\n" not in str(err.value)
