"""``suite compare`` (verdict table in the terminal) and ``suite report`` (md / json / latex / html, CI gate).

``print_report`` (from ``suite.reports.terminal``) is also what ``suite run`` shows at the end of a grid.
"""

from __future__ import annotations

import os
import sys
import tempfile
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.console import Console

from suite.errors import StoreError, SuiteError
from suite.metric_catalog import DEFAULT_METRIC_BY_TASK, METRIC_CATALOG
from suite.reports import FORMATS
from suite.verdict_names import GATE_MEANINGS, GATES

if TYPE_CHECKING:
    import pandas as pd

    from suite.reports.model import Report


ReportFormat = Enum("ReportFormat", {name: name for name in FORMATS}, type=str)
FailOn = Enum("FailOn", {gate.replace("-", "_"): gate for gate in GATES}, type=str)


def print_report(console: Console, report: Report) -> None:
    """The verdict tables of ``report`` (what ``suite compare`` prints; ``suite run`` shows it after a grid)."""
    from suite.reports.terminal import print_report as show

    show(console, report)


def _print_across(report: Report, as_json: bool) -> None:
    import json

    from suite.reports.across import build_across
    from suite.reports.json_document import across_document
    from suite.reports.terminal import print_across

    across = build_across(report)
    if as_json:
        sys.stdout.write(json.dumps(across_document(across), indent=2, allow_nan=False) + "\n")
    else:
        print_across(Console(), across)


def build_from_store(
    store: str | None,
    metric: str | None = None,
    delta: float | None = None,
    baseline: str | None = None,
    dataset: str | None = None,
    study: str | None = None,
) -> Report:
    """The report of the store's runs: ad hoc families, or the family and tables of ``study`` (a name or id prefix)."""
    from suite.reports.model import build_report
    from suite.store import read_calibrations, read_controls, read_studies
    from suite.studies.record import find_study

    runs = _load_runs(store)
    chosen = find_study(read_studies(store), study) if study else None
    report = build_report(
        runs, metric=metric, delta=delta, baseline=baseline, dataset=dataset, study=chosen,
        calibrations=read_calibrations(store), controls=read_controls(store),
    )  # fmt: skip
    if not report.comparisons:
        raise _nothing_to_compare(runs, store, dataset)
    return report


def _load_runs(store: str | None) -> pd.DataFrame:
    """Every run in the store, failed ones included (they make a comparison refuse, not vanish)."""
    from suite.reports.model import MAKE_RUNS
    from suite.store import STORE_ENV, read_runs, resolve_store_path

    path = resolve_store_path(store)
    if not path.exists():
        given = "--store" if store else f"${STORE_ENV}" if os.environ.get(STORE_ENV) else "the default store"
        raise StoreError(
            f"no store at {path} (no such file, from {given}); check the path, pass --store PATH, or {MAKE_RUNS}"
        )
    runs = read_runs(path, status=None)
    if runs.empty:
        raise StoreError(f"no runs in the store {resolve_store_path(store)}; {MAKE_RUNS}")
    return runs


def _nothing_to_compare(runs: pd.DataFrame, store: str | None, dataset: str | None) -> StoreError:
    from suite.reports.model import MAKE_RUNS
    from suite.store import resolve_store_path

    if dataset is not None:
        runs = runs[runs["dataset"].str.lower() == dataset.lower()]
    where = f"the store {resolve_store_path(store)}" + (f" on {dataset}" if dataset else "")
    specs = ", ".join(sorted(runs["spec"].unique()))
    return StoreError(f"{where} holds only baselines ({specs}), no variant to compare; {MAKE_RUNS}")


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file, so a failure never leaves half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


DatasetOption = typer.Option(None, "--dataset", "-d", help="Only this dataset (default: every dataset in the store).")
_DEFAULTS = ", ".join(f"{metric} for {task}" for task, metric in DEFAULT_METRIC_BY_TASK.items())
_OTHERS = ", ".join(name for name in METRIC_CATALOG if name not in DEFAULT_METRIC_BY_TASK.values())
_DELTAS = ", ".join(
    f"{name} {info.default_delta:g}" + {"%": " points", "px": " px"}.get(info.unit, "")
    for name, info in METRIC_CATALOG.items()
    if info.default_delta is not None
)
MetricOption = typer.Option(
    None, "--metric", "-m", help=f"Validation metric (default: {_DEFAULTS}; also {_OTHERS}, as the runs have them)."
)
BaselineOption = typer.Option(None, "--baseline", "-b", help="Only variants of this baseline, e.g. unet.")
DeltaOption = typer.Option(
    None,
    "--delta",
    help=f"Practical-equivalence margin in the metric's unit (default {_DELTAS}; other metrics need one).",
)
StoreOption = typer.Option(None, "--store", help="SQLite store (default $SUITE_STORE or results/suite.db).")
StudyOption = typer.Option(
    None,
    "--study",
    help="Show one study (a grid of `suite run`, a sweep, an ablation or a small-data trial: its name or id) in its own "
    "family, with its position table, effects or fraction curve.",
)


def register(app: typer.Typer) -> None:
    @app.command()
    def compare(
        dataset: Optional[str] = DatasetOption,
        metric: Optional[str] = MetricOption,
        baseline: Optional[str] = BaselineOption,
        delta: Optional[float] = DeltaOption,
        store: Optional[str] = StoreOption,
        study: Optional[str] = StudyOption,
        as_json: bool = typer.Option(
            False, "--json", help="Print the JSON report document (suite/report_schema.json) instead."
        ),
        across_datasets: bool = typer.Option(
            False,
            "--across-datasets",
            help="Per module, its verdicts on every dataset side by side, a Wilcoxon test on gain/delta and "
            "average ranks (Friedman, Nemenyi); needs a module on 3 or more datasets.",
        ),
    ) -> None:
        """Verdict per variant: gain with 95% CI, Holm-adjusted p, folds won, posterior, cost added."""
        from suite.reports.render import render

        report = build_from_store(store, metric, delta, baseline, dataset, study)
        if across_datasets:
            _print_across(report, as_json)
        elif as_json:
            sys.stdout.write(render(report, "json"))
        else:
            print_report(Console(), report)

    @app.command()
    def report(
        fmt: ReportFormat = typer.Option(
            "md", "--format", "-f", help="md (CI job summary), json, latex (booktabs) or html (one file)."
        ),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write to this file (default: standard output)."),
        fail_on: Optional[FailOn] = typer.Option(
            None,
            "--fail-on",
            help="Exit 1 when " + "; ".join(f"{gate}: {meaning}" for gate, meaning in GATE_MEANINGS.items()) + ".",
        ),
        store: Optional[str] = StoreOption,
        dataset: Optional[str] = DatasetOption,
        metric: Optional[str] = MetricOption,
        delta: Optional[float] = DeltaOption,
        baseline: Optional[str] = BaselineOption,
        study: Optional[str] = StudyOption,
    ) -> None:
        """Write the verdicts with provenance and statistics; optionally gate a CI job on them."""
        from suite.reports.render import render

        built = build_from_store(store, metric, delta, baseline, dataset, study)
        text = render(built, fmt.value)
        if out is None:
            sys.stdout.write(text)
        else:
            try:
                _write_atomically(out, text)
            except OSError as err:
                raise SuiteError(
                    f"cannot write the report to {out} ({err.strerror or err}); choose another --out"
                ) from None
            print(f"wrote the {fmt.value} report to {out}", file=sys.stderr)
        if fail_on is not None:
            failing = built.failing(fail_on.value)
            if failing:
                names = ", ".join(f"{c.variant} on {c.dataset} ({c.verdict})" for c in failing)
                print(f"gate --fail-on {fail_on.value}: {len(failing)} variant(s) failed: {names}", file=sys.stderr)
                raise typer.Exit(1)
            print(f"gate --fail-on {fail_on.value}: passed ({len(built.comparisons)} variant(s))", file=sys.stderr)
