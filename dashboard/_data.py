"""Load the results store for the dashboard: cached runs and verdicts that refresh when the store changes.

The store path is ``$SUITE_STORE`` (``suite dashboard --store`` sets it), else ``results/suite.db``.
Every cached call is keyed on the path and the modification times of the database and its ``-wal``
file, so a grid that writes new runs shows up on the next rerun without restarting the app.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from suite.errors import SuiteError
from suite.reports._common import family_label, verdict_text
from suite.reports.across import AcrossReport, build_across
from suite.reports.model import Report, build_report
from suite.store import read_calibrations, read_controls, read_runs, read_studies, resolve_store_path
from suite.studies.record import Study

# Session-state keys of the statistics controls the router renders in the sidebar.
METRIC_KEY = "metric"
DELTA_KEY = "delta"
DEFAULT_METRIC = "default"  # each dataset's own metric: accuracy (classification), Dice (segmentation)
VARIANT_TARGET = "variant_target"  # (variant, dataset, recipe hash) the Variant page opens with, set by Studies



def how_to_create(path: Path) -> str:
    """The commands that fill the store at ``path`` (markdown)."""
    return f"""Create results with one of:

```bash
suite demo --store {path}       # offline tour: resnet18+se on digits, unet+se on synthetic shapes
suite run --variant unet+se --dataset isbi2012-membrane --data-root DIR --store {path}
```

then rerun this page (press R); `suite dashboard --store PATH` reads another store."""


@dataclass(frozen=True)
class Board:
    """What every page shows: the done runs, the failed runs and the report for the chosen metric."""

    runs: pd.DataFrame  # done runs (the store's ``runs()`` DataFrame)
    failed: pd.DataFrame  # failed runs, for the error list
    report: Report  # the same model the CLI renders
    comparisons: pd.DataFrame  # one row per comparison of ``report`` (``comparison_table``)
    metric: str | None  # None: each dataset's default metric
    delta: float | None  # None: each metric's default practical-equivalence margin
    path: str = ""  # the store, and its stamp: the cache key of everything derived from it
    stamp: tuple = ()

    def across(self) -> AcrossReport:
        """The across-datasets analysis of ``report``; raises ``SuiteError`` when no module is on 3 datasets."""
        return load_across(self.path, self.stamp, self.metric, self.delta)


def store_path() -> Path:
    return resolve_store_path(None)


def _file_stamp(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except FileNotFoundError:  # no store yet, or a WAL just checkpointed away
        return (0, 0)
    return (stat.st_mtime_ns, stat.st_size)


def store_stamp(path: Path) -> tuple[tuple[int, int], ...]:
    """(modification time in ns, size) of the database and of its write-ahead log."""
    return _file_stamp(path), _file_stamp(path.with_name(path.name + "-wal"))


@st.cache_data(show_spinner="Reading the results store ...")
def load_runs(path: str, stamp: tuple, status: str | None = "done") -> pd.DataFrame:
    """All runs of one status (None: all); ``stamp`` is part of the cache key so a changed store is read again."""
    return read_runs(path, status=status)


@st.cache_data(show_spinner="Comparing variants with their baselines ...")
def load_report(path: str, stamp: tuple, metric: str | None, delta: float | None) -> Report:
    """The report model over every run (failed ones included, so they refuse as in the CLI), ad-hoc families."""
    runs = load_runs(path, stamp, status=None)
    if runs.empty or not (runs["spec"] != runs["baseline"]).any():
        return build_report(runs.iloc[:0])
    return build_report(
        runs, metric=metric, delta=delta, calibrations=read_calibrations(path), controls=read_controls(path)
    )


@st.cache_data(show_spinner="Comparing the modules across datasets ...")
def load_across(path: str, stamp: tuple, metric: str | None, delta: float | None) -> AcrossReport:
    """``build_across`` of the same report (what ``suite compare --across-datasets`` prints); raises ``SuiteError``."""
    return build_across(load_report(path, stamp, metric, delta))


@st.cache_data(show_spinner="Reading the studies ...")
def load_studies(path: str, stamp: tuple) -> list[Study]:
    """The studies recorded in the store (grids, sweeps, ablations, small-data trials), oldest first."""
    return read_studies(path)


@st.cache_data(show_spinner="Comparing the study's variants ...")
def load_study_report(path: str, stamp: tuple, study_id: str, metric: str | None, delta: float | None) -> Report:
    """The report of one study: its family and its own tables (what ``suite compare --study`` prints)."""
    study = next(s for s in load_studies(path, stamp) if s.id == study_id)
    runs = load_runs(path, stamp, status=None)
    return build_report(runs, metric=metric, delta=delta, study=study, controls=read_controls(path))


def comparison_table(report: Report) -> pd.DataFrame:
    """One row per comparison of ``report`` (``Comparison.to_dict()``), CI bounds spread into columns, with
    the verdict and the family worded as every report words them."""
    rows = [
        comp.to_dict()
        | {
            "p_shown": comp.shown_p,
            "setting": setting.label,
            "label": comp.variant + (f" · {setting.label}" if setting.label else ""),  # unique within a dataset
            "verdict_text": verdict_text(comp),
            "family_text": family_label(comp.family, comp.family_size),
        }
        for section in report.sections
        for setting in section.settings
        for comp in setting.comparisons
    ]
    table = pd.DataFrame(rows)
    for name in ("ci95", "ci90") if rows else ():
        bounds = table.pop(name)
        table[f"{name}_lo"] = pd.Series([pair[0] if pair else None for pair in bounds], dtype=float)
        table[f"{name}_hi"] = pd.Series([pair[1] if pair else None for pair in bounds], dtype=float)
    return table


def board() -> Board | None:
    """The board for the current store and sidebar settings; shows why and returns None when empty."""
    path = store_path()
    stamp = store_stamp(path)
    try:
        runs = load_runs(str(path), stamp)
        failed = load_runs(str(path), stamp, status="failed")
    except SuiteError as err:
        st.error(str(err))
        return None
    if runs.empty:
        reason = "has no finished runs yet" if path.exists() else "does not exist yet"
        st.info(f"The results store `{path}` {reason}.\n\n{how_to_create(path)}")
        if not failed.empty:
            st.warning(f"{len(failed)} run(s) failed; the first error: {failed['error'].iloc[0]}")
        return None
    metric = st.session_state.get(METRIC_KEY, DEFAULT_METRIC)
    metric = None if metric in (None, DEFAULT_METRIC) else metric
    delta = st.session_state.get(DELTA_KEY)
    try:
        report = load_report(str(path), stamp, metric, delta)
    except SuiteError as err:
        st.error(str(err))
        report = build_report(runs.iloc[:0])
    return Board(runs, failed, report, comparison_table(report), metric, delta, str(path), stamp)
