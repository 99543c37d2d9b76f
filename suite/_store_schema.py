"""How a ``RunRecord`` maps onto a ``runs`` row, and rows onto the ``runs()`` DataFrame.

A row has one column per record field: the seeds are spread over four columns, the dict fields
(recipe, metrics, test_metrics, curves, provenance) are stored as JSON text, and the per-sample values
as a compressed blob (``per_sample``) with the digest of their ids (``sample_ids``; the id lists live once
each in the ``sample_ids`` table). The DataFrame is the contract the verdict, the reports and the
dashboard read; its columns are ``FRAME_COLUMNS`` (``per_sample`` holds ``PerSample`` objects or None),
then one float column per validation metric (``val_<metric>``) and per test metric (``test_<metric>``),
then ``module`` and ``points``.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from typing import Any

import pandas as pd

from suite.errors import StoreError
from suite.per_sample import PerSample, decode_ids, encode_ids
from suite.records import RunRecord, Seeds
from suite.spec import parse
from suite.studies.calibrate import Arm, Calibration
from suite.studies.record import Study

JSON_FIELDS = ("recipe", "metrics", "test_metrics", "curves", "provenance")
INT_FIELDS = ("k", "fold", "n_train", "n_val")
OPTIONAL_INT_FIELDS = ("params", "params_added")
FLOAT_FIELDS = ("wall_s",)
OPTIONAL_FLOAT_FIELDS = ("gmacs", "latency_ms", "baseline_latency_ms", "latency_spread_ms")
SEED_COLUMNS = {"split": "split_seed", "init": "init_seed", "order": "order_seed", "augment": "augment_seed"}
STATUSES = ("done", "failed")

FRAME_COLUMNS = [
    "key", "spec", "baseline", "dataset", "manifest_hash", "k", "fold", "seed", "split_seed", "order_seed",
    "augment_seed", "recipe_hash", "recipe", "status", "error", "n_train", "n_val", "params", "params_added",
    "gmacs", "latency_ms", "baseline_latency_ms", "latency_spread_ms", "wall_s", "device", "provenance", "curves",
    "per_sample", "started_at", "finished_at",
]  # fmt: skip
FRAME_DTYPES = {  # per_sample stays object: PerSample or None
    **dict.fromkeys(("k", "fold", "seed", "split_seed", "order_seed", "augment_seed", "n_train", "n_val"), "int64"),
    **dict.fromkeys(("params", "params_added"), "Int64"),  # exact counts; <NA> where not measured
    **dict.fromkeys(("gmacs", "latency_ms", "baseline_latency_ms", "latency_spread_ms", "wall_s"), "float64"),
}
SORT_COLUMNS = ["dataset", "spec", "fold", "seed"]


def _plain(value: Any) -> Any:
    """JSON fallback for numpy / torch scalars and arrays; anything else is not storable."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON-serializable")


def to_json(record: RunRecord, name: str) -> str:
    try:
        return json.dumps(getattr(record, name), sort_keys=True, default=_plain)
    except (TypeError, ValueError) as err:
        raise StoreError(
            f"run {record.key}: field {name!r} cannot be stored as JSON ({err}); "
            "keep record fields to numbers, strings, lists and dicts"
        ) from None


def record_to_row(record: RunRecord) -> dict[str, Any]:
    """The column values of ``record``; raises ``StoreError`` for a status other than done/failed."""
    if record.status not in STATUSES:
        raise StoreError(
            f"run {record.key} has status {record.status!r}; only finished runs ({' or '.join(STATUSES)}) are stored"
        )
    row: dict[str, Any] = {
        "key": record.key,
        "spec": record.spec,
        "baseline": record.baseline,
        "dataset": record.dataset,
        "manifest_hash": record.manifest_hash,
        "recipe_hash": record.recipe_hash,
        "status": record.status,
        "error": record.error,
        "device": record.device,
        "started_at": record.started_at,
        "finished_at": record.finished_at,
    }
    for seed, column in SEED_COLUMNS.items():
        row[column] = int(getattr(record.seeds, seed))
    for name in INT_FIELDS:
        row[name] = int(getattr(record, name))
    for name in FLOAT_FIELDS:
        row[name] = float(getattr(record, name))
    for name in OPTIONAL_INT_FIELDS:
        value = getattr(record, name)
        row[name] = None if value is None else int(value)
    for name in OPTIONAL_FLOAT_FIELDS:
        value = getattr(record, name)
        row[name] = None if value is None else float(value)
    for name in JSON_FIELDS:
        row[name] = to_json(record, name)
    per_sample = record.per_sample
    row["per_sample"] = None if per_sample is None else per_sample.encode_values()
    row["sample_ids"] = None if per_sample is None else per_sample.digest
    return row


def ids_row(record: RunRecord) -> tuple[str, bytes] | None:
    """(digest, compressed ids) of the record's per-sample ids, for the ``sample_ids`` table."""
    return None if record.per_sample is None else (record.per_sample.digest, encode_ids(record.per_sample.ids))


def row_to_record(row: dict[str, Any], ids: dict[str, bytes] | None = None) -> RunRecord:
    """Rebuild a record from a row; columns an older schema lacks take the record's defaults. ``ids``: the
    ``sample_ids`` table's compressed id lists by digest (those of this row at least)."""
    fields = {name: json.loads(row[name]) for name in JSON_FIELDS if row.get(name) is not None}
    seeds = Seeds(**{seed: row[column] for seed, column in SEED_COLUMNS.items()})
    skip = {*JSON_FIELDS, *SEED_COLUMNS.values(), "per_sample", "sample_ids"}
    plain = {name: row[name] for name in row if name not in skip}
    digest, blob = row.get("sample_ids"), row.get("per_sample")
    per_sample = None
    if digest is not None and blob is not None and ids and digest in ids:
        per_sample = PerSample.decode(_ids(digest, ids[digest]), blob)
    return RunRecord(**plain, **fields, seeds=seeds, per_sample=per_sample)


@lru_cache(maxsize=1024)
def _ids(digest: str, blob: bytes) -> tuple[str, ...]:
    """The decoded ids (the runs of one fold share one tuple)."""
    return decode_ids(blob)


def _insertion_labels(spec: str) -> tuple[str, str]:
    """(module, points): "+"-joined module names and, per insertion, its comma-joined points ("" for a baseline)."""
    parsed = parse(spec)
    return "+".join(parsed.modules), "+".join(",".join(ins.points) for ins in parsed.insertions)


def _metric(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def frame(records: list[RunRecord]) -> pd.DataFrame:
    """The ``runs()`` DataFrame of ``records``: one row each, sorted by dataset, spec, fold, seed."""
    val_names = sorted({name for record in records for name in record.metrics})
    test_names = sorted({name for record in records for name in record.test_metrics})
    columns = FRAME_COLUMNS + [f"val_{m}" for m in val_names] + [f"test_{m}" for m in test_names] + ["module", "points"]
    rows = []
    for record in records:
        row = {name: getattr(record, name) for name in FRAME_COLUMNS if hasattr(record, name)}
        row.update({column: getattr(record.seeds, seed) for seed, column in SEED_COLUMNS.items()})
        row["seed"] = record.seeds.init
        row.update({f"val_{m}": _metric(record.metrics.get(m)) for m in val_names})
        row.update({f"test_{m}": _metric(record.test_metrics.get(m)) for m in test_names})
        row["module"], row["points"] = _insertion_labels(record.spec)
        rows.append(row)
    table = pd.DataFrame(rows, columns=columns)
    dtypes = {**FRAME_DTYPES, **dict.fromkeys(columns[len(FRAME_COLUMNS) : -2], "float64")}
    table = table.astype(dtypes)
    return table.sort_values(SORT_COLUMNS, kind="stable").reset_index(drop=True)


def study_to_row(study: Study) -> dict[str, Any]:
    return {
        "id": study.id,
        "name": study.name,
        "kind": study.kind,
        "design": json.dumps(study.design, sort_keys=True, default=_plain),
        "members": json.dumps([list(m) for m in study.members]),
        "created_at": study.created_at,
    }


def row_to_study(row: dict[str, Any]) -> Study:
    members = tuple(tuple(m) for m in json.loads(row["members"]))
    return Study(row["id"], row["name"], row["kind"], json.loads(row["design"]), members, row["created_at"])


def calibration_to_row(calibration: Calibration) -> dict[str, Any]:
    arms = {name: {"verdicts": list(arm.verdicts), "gains": list(arm.gains)} for name, arm in calibration.arms.items()}
    return {
        "id": calibration.id,
        "dataset": calibration.dataset,
        "baseline": calibration.baseline,
        "recipe_hash": calibration.recipe_hash,
        "k": calibration.k,
        "metric": calibration.metric,
        "split_seeds": json.dumps(list(calibration.split_seeds)),
        "arms": json.dumps(arms, default=_plain),
        "created_at": calibration.created_at,
    }


def row_to_calibration(row: dict[str, Any]) -> Calibration:
    arms = {
        name: Arm(name, tuple(arm["verdicts"]), tuple(arm["gains"])) for name, arm in json.loads(row["arms"]).items()
    }
    return Calibration(
        row["dataset"], row["baseline"], row["recipe_hash"], row["k"], row["metric"],
        tuple(json.loads(row["split_seeds"])), arms, row["created_at"],
    )  # fmt: skip
