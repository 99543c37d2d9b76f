"""``suite compare`` (verdict table in the terminal) and ``suite report`` (md / json / latex / html, CI gate).

``print_comparison`` (from ``suite.reports.terminal``) is also what ``suite run`` shows at the end of a grid.
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

if TYPE_CHECKING:
    import pandas as pd

    from suite.verdict import Comparison


class ReportFormat(str, Enum):
    md = "md"
    json = "json"
    latex = "latex"
    html = "html"


class FailOn(str, Enum):
    worse = "worse"
    not_holds = "not-holds"


def print_comparison(console: Console, comparisons: list[Comparison]) -> None:
    """The verdict tables of ``comparisons`` (what ``suite compare`` prints; ``suite run`` shows it after a grid)."""
    from suite.reports.terminal import print_comparison as show

    show(console, comparisons)


def _load_runs(store: str | None) -> pd.DataFrame:
    """Every run in the store, failed ones included (they make a comparison refuse, not vanish)."""
    from suite.report import MAKE_RUNS
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
    from suite.report import MAKE_RUNS
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
MetricOption = typer.Option(None, "--metric", "-m", help="Validation metric (default: accuracy for cls, dice for seg).")
BaselineOption = typer.Option(None, "--baseline", "-b", help="Only variants of this baseline, e.g. unet.")
DeltaOption = typer.Option(
    None,
    "--delta",
    help="Practical-equivalence margin in the metric's unit (default 0.5 accuracy/macro_f1 points, 0.01 dice/iou).",
)
StoreOption = typer.Option(None, "--store", help="SQLite store (default $SUITE_STORE or results/suite.db).")


def register(app: typer.Typer) -> None:
    @app.command()
    def compare(
        dataset: Optional[str] = DatasetOption,
        metric: Optional[str] = MetricOption,
        baseline: Optional[str] = BaselineOption,
        delta: Optional[float] = DeltaOption,
        store: Optional[str] = StoreOption,
        as_json: bool = typer.Option(
            False, "--json", help="Print the JSON report document (suite/report_schema.json) instead."
        ),
    ) -> None:
        """Verdict per variant: gain with 95% CI, Holm-adjusted p, folds won, cost added."""
        from suite.report import build_report, render

        runs = _load_runs(store)
        report = build_report(runs, metric=metric, delta=delta, baseline=baseline, dataset=dataset)
        if not report.comparisons:
            raise _nothing_to_compare(runs, store, dataset)
        if as_json:
            sys.stdout.write(render(report, "json"))
        else:
            print_comparison(Console(), report.comparisons)

    @app.command()
    def report(
        fmt: ReportFormat = typer.Option(
            ReportFormat.md, "--format", "-f", help="md (CI job summary), json, latex (booktabs) or html (one file)."
        ),
        out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write to this file (default: standard output)."),
        fail_on: Optional[FailOn] = typer.Option(
            None, "--fail-on", help="Exit 1 when any variant is worse, or when any does not hold (not-holds)."
        ),
        store: Optional[str] = StoreOption,
        dataset: Optional[str] = DatasetOption,
        metric: Optional[str] = MetricOption,
        delta: Optional[float] = DeltaOption,
        baseline: Optional[str] = BaselineOption,
    ) -> None:
        """Write the verdicts with provenance and statistics; optionally gate a CI job on them."""
        from suite.report import build_report, render

        runs = _load_runs(store)
        built = build_report(runs, metric=metric, delta=delta, baseline=baseline, dataset=dataset)
        if not built.comparisons:
            raise _nothing_to_compare(runs, store, dataset)
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
