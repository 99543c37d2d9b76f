"""The Variant page's metric tables: every metric of the baseline and the variant (validation folds, and the
official test split apart), and the percentiles of the per-image values.

Pure pandas, no Streamlit. The numbers come from the ``Report`` section the CLI renders (its
``validation``, ``test`` and ``per_image`` tables), worded with ``suite.reports._format`` and titled with
each metric's unit and direction from ``suite.metric_catalog``.
"""

from __future__ import annotations

import pandas as pd

from suite.per_sample import PERCENTILES, PerImageSummary
from suite.reports import _format
from suite.reports._common import metric_heading
from suite.reports.metric_tables import SpecValues, metric_order
from suite.verdict import Comparison


def spec_metrics(rows: list[SpecValues], comp: Comparison, setting: str) -> pd.DataFrame:
    """One row per metric (``HD95 (px, lower is better)``) with the baseline's and the variant's mean ± sd over
    their runs in ``setting``; empty when neither has a value (e.g. no official test split)."""
    wanted = {"baseline": comp.baseline, "variant": comp.variant}
    chosen = {row.role: row for row in rows if row.setting == setting and wanted.get(row.role) == row.spec}
    names = metric_order({name for row in chosen.values() for name in row.values})

    def cell(role: str, name: str) -> str:
        row = chosen.get(role)
        return _format.mean_sd(*row.values[name], name) if row is not None and name in row.values else "–"

    table = pd.DataFrame(
        {"metric": [metric_heading(n) for n in names]}
        | {role: [cell(role, n) for n in names] for role in ("baseline", "variant")}
    )
    runs = {role: (chosen[role].runs if role in chosen else 0) for role in ("baseline", "variant")}
    return table.rename(columns={role: f"{role} ({runs[role]} runs)" for role in runs})


def percentiles(summary: PerImageSummary) -> pd.DataFrame:
    """Rows baseline, variant and gain (positive = better); one column per percentile of the per-image values."""
    rows = {"baseline": summary.baseline, "variant": summary.variant, "gain (positive = better)": summary.gain}
    return pd.DataFrame(
        [{"values": label} | {f"p{p}": v for p, v in zip(PERCENTILES, values)} for label, values in rows.items()]
    )
