"""The JSON report document (``suite report --format json``, ``suite compare --json``).

It follows ``suite/report_schema.json`` (shipped next to the package) and carries its
``schema_version``; fields are only added within a major version.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from suite.reports.across import AcrossReport
from suite.reports.model import Report
from suite.studies.calibrate import Calibration

SCHEMA_VERSION = "2.1"
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
