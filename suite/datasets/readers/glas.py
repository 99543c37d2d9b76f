"""GlaS colon histology glands: ``train_N.bmp`` + ``train_N_anno.bmp``, ``testA_N``, ``testB_N`` in one folder.

Annotations are instance labels (each gland its own value); foreground is any value > 0. ``train_*``
is the fold pool, ``testA_*`` + ``testB_*`` the official test split. The release's ``Grade.csv`` gives
each image's patient, and folds keep a patient's images together; without it the set is refused, since
images of one patient in both training and validation would leak.
"""

from __future__ import annotations

import csv
from pathlib import Path

from suite.datasets._cards import Card
from suite.datasets._scan import Sample, Scan, files_of, image_files, is_empty, layout_error, pair
from suite.datasets.readers import dataset
from suite.registry import natural_key

SPLIT_PREFIXES = {"train": ("train_",), "test": ("testA_", "testB_")}


def _find_base(root: Path) -> Path | None:
    candidates = [root] + sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: natural_key(p.name))
    for candidate in candidates:
        if any(p.name.startswith("train_") and p.suffix.lower() == ".bmp" for p in candidate.iterdir()):
            return candidate
    return None


def _patients(base: Path) -> tuple[dict[str, str], list[Path], list[str]]:
    """image name -> patient id from ``Grade.csv`` (columns: name, Patient ID, grades), its path, problems."""
    table = base / "Grade.csv"
    if not table.is_file():
        return {}, [], [
            f"{table} is missing: it gives each image's patient, and without it folds would split a patient's "
            "images between training and validation; restore it from the release"
        ]
    with table.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    header = [cell.strip().lower() for cell in rows[0]] if rows else []
    if "name" not in header or "patient id" not in header:
        return {}, [table], [f"{table} has no 'name' and 'Patient ID' columns; restore the release's Grade.csv"]
    name_col, patient_col = header.index("name"), header.index("patient id")
    patients = {
        row[name_col].strip(): f"patient-{row[patient_col].strip()}" for row in rows[1:] if len(row) > patient_col
    }
    return patients, [table], []


@dataset("glas")
def read_glas(root: Path, card: Card) -> Scan:
    if is_empty(root):
        return Scan(root, missing=True)
    base = _find_base(root) if root.is_dir() else None
    if base is None:
        return Scan(root, problems=[layout_error(root, card.title, card.layout.description)])
    patients, tables, problems = _patients(base)
    files = image_files(base, (".bmp",))
    images = {p.stem: p for p in files if not p.stem.endswith("_anno")}
    masks = {p.stem[: -len("_anno")]: (p,) for p in files if p.stem.endswith("_anno")}
    pairs, unpaired = pair(
        images,
        masks,
        expected_mask=lambda key: base / f"{key}_anno.bmp",
        expected_image=lambda key: base / f"{key}.bmp",
    )
    problems += unpaired
    splits: dict[str, list[Sample]] = {name: [] for name in SPLIT_PREFIXES}
    for key, image, mask in pairs:
        split = next((name for name, prefixes in SPLIT_PREFIXES.items() if key.startswith(prefixes)), None)
        if split is None:
            problems.append(f"{image} is neither train_N, testA_N nor testB_N; rename or remove it")
            continue
        group = patients.get(key) if patients else None
        if patients and split == "train" and group is None:
            problems.append(f"{base / 'Grade.csv'} has no patient for {key}; restore the release's Grade.csv")
        splits[split].append(Sample(id=key, image=image, masks=mask, mask_rule="instances", group=group))
    return Scan(base, files=files_of(splits) + tables, splits=splits, problems=problems)
