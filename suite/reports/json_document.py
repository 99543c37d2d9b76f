"""The JSON report document (``suite report --format json``, ``suite compare --json``).

It follows ``suite/report_schema.json`` (shipped next to the package) and carries its
``schema_version``; fields are only added within a major version.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path

from suite.reports.across import AcrossReport
from suite.reports.model import Report
from suite.reports.study_model import StudyView
from suite.studies.calibrate import Calibration
from suite.verdict import Comparison

SCHEMA_VERSION = "2.2"  # 2.1: the study a report was built for, with its own tables; 2.2: every metric,
# the official test split and per-image percentiles per section
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "report_schema.json"


def to_document(report: Report) -> dict:
    """The report as plain JSON-ready data."""
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": report.generated_at,
        "scope": report.scope,
        "selection": report.selection,
        "provenance": report.provenance,
        "statistics": report.statistics,
        "verdict_counts": report.counts(),
        "sections": [
            {
                "dataset": section.dataset,
                "metric": section.metric,
                "folds": section.folds,
                "families": [{"name": name, "size": size} for name, size in section.families()],
                "settings": [
                    {"baseline": s.baseline, "label": s.label, "calibration": _calibration(s.calibration)}
                    for s in section.settings
                ],
                "validation_metrics": [row.to_dict() for row in section.validation],
                "test_results": [row.to_dict() for row in section.test],
                "per_image": [item.to_dict() for item in section.per_image],
                "scoring": section.scoring,
            }
            for section in report.sections
        ],
        "comparisons": [
            comp.to_dict() | {"setting": setting.label}
            for section in report.sections
            for setting in section.settings
            for comp in setting.comparisons
        ],
        "study": None if report.study is None else study_document(report.study),
    }


def _jsonable(value: object) -> object:
    """Plain JSON data: tuples as lists, NaN and infinities as None."""
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


def _cell(comp: Comparison) -> dict:
    """What a study table shows of one comparison (the whole of it is in ``comparisons``)."""
    return {
        "variant": comp.variant, "recipe_hash": comp.recipe_hash, "verdict": comp.verdict, "reason": comp.reason,
        "gain": _jsonable(comp.gain), "ci95": _jsonable(comp.ci95), "p_adjusted": _jsonable(comp.p_adjusted),
        "params_added": comp.params_added,
    }  # fmt: skip


def study_document(view: StudyView) -> dict:
    """The study: its record (design included), one-line summaries and its position tables, effects and curves."""
    return {
        "id": view.id,
        "name": view.name,
        "kind": view.kind,
        "created_at": view.created_at,
        "design": view.design,
        "summary": view.summaries(),
        "positions": [
            {
                "dataset": t.dataset, "metric": t.metric, "setting": t.setting, "columns": t.columns,
                "rows": [asdict(row) for row in t.rows], "skipped": t.skipped,
                "cells": [{"position": p, "column": c, **_cell(comp)} for (p, c), comp in t.cells.items()],
            }  # fmt: skip
            for t in view.positions
        ],
        "effects": [
            {
                "dataset": t.dataset, "metric": t.metric, "factors": t.factors, "subsets": t.subsets,
                "effects": [{key: _jsonable(value) for key, value in asdict(e).items()} | {"reading": e.reading}
                            for e in t.effects],
            }  # fmt: skip
            for t in view.effects
        ],
        "curves": [
            {
                "dataset": c.dataset, "metric": c.metric, "variant": c.variant, "baseline": c.baseline,
                "points": [{"fraction": p.fraction, "n_train": p.n_train, **_cell(p.comparison)} for p in c.points],
            }  # fmt: skip
            for c in view.curves
        ],
    }


def _calibration(calibration: Calibration | None) -> dict | None:
    if calibration is None:
        return None
    arms = {
        arm.name: {"false_holds": asdict(arm.holds), "any_claim": asdict(arm.claims), "verdicts": list(arm.verdicts)}
        for arm in calibration.arms.values()
    }
    return {"split_seeds": len(calibration.split_seeds), "k": calibration.k, "created_at": calibration.created_at, "arms": arms}


def render(report: Report) -> str:
    return json.dumps(to_document(report), indent=2, allow_nan=False) + "\n"


def across_document(across: AcrossReport) -> dict:
    """``suite compare --across-datasets --json``: tasks, per-insertion tests and the ranking."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tasks": across.task_names,
        "insertions": [
            asdict(insertion) | {"gain_unit": "gain / delta of each task", "wins": insertion.wins}
            for insertion in across.insertions
        ],
        "ranking": None if across.ranking is None else asdict(across.ranking),
        "skipped": across.skipped,
    }
