"""The report in the terminal (rich): one table per section when it fits the console; on narrow ones (CI
logs are 80 columns) a quality table with stacked cells and a separate cost table, so nothing is cut off.
Under each verdict table: every validation metric of its specs, and the official test split apart."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from suite.metric_catalog import metric_info
from suite.reports import _format
from suite.reports._common import (
    TEST_NOTE,
    TEST_TITLE,
    VALIDATION_NOTE,
    VALIDATION_TITLE,
    capacity_cell,
    capacity_lines,
    family_text,
    implementation_lines,
    scope_text,
    values_table,
    verdict_text,
)
from suite.reports.across import CELL_NOTE, AcrossReport
from suite.reports.metric_tables import SpecValues
from suite.reports.model import MAKE_RUNS, Report, Section
from suite.reports.style import style
from suite.verdict import Comparison




def _caption(section: Section) -> str:
    comps, info = section.comparisons, metric_info(section.metric)
    unit = "%, gains in percentage points" if info.unit == "%" else info.unit
    grids = ", ".join(sorted({_format.runs(c) for c in comps}))
    return (
        f"{section.metric} ({unit}; {info.direction}, gain > 0 is better), mean ± sd over folds × seeds ({grids}; "
        f"{section.folds} folds); "
        f"delta ±{_format.value(section.delta, section.metric)}. p: corrected resampled t-test (Nadeau & Bengio) on "
        f"per-fold gains, two-sided, Holm within {family_text(section)}. P(>δ / ≈ / <−δ): posterior of the "
        f"correlated Bayesian t-test. {_format.cost_units(comps)}."
    )


def _verdict(comp: Comparison, join: str) -> str:
    text = verdict_text(comp).replace(" (", join + "(")
    return f"[{style(comp.verdict).terminal}]{escape(text)}[/]"


def _capacity(comp: Comparison, join: str) -> str:
    cap = comp.capacity
    text = capacity_cell(comp).replace(" [", join + "[").replace("] ", "]" + join, 1)
    return f"[{style(cap.verdict).terminal}]{escape(text)}[/]" if cap is not None and cap.has_stats else escape(text)


def _cost_cells(comp: Comparison) -> list[str]:
    return [_format.params_added(comp), _format.gmacs_added(comp), _format.latency_added(comp)]


def _table(section: Section, title: str, stacked: bool) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD if stacked else box.HEAVY_HEAD, padding=(0, 1))
    longest = max(len(_format.spec_label(c.variant)) for c in section.comparisons)
    table.add_column("variant", min_width=min(longest, 16 if stacked else 32), overflow="fold")
    return table


def _quality_table(section: Section, with_cost: bool) -> Table:
    """Wide: one line per variant, posterior and cost included. Stacked: two-line cells, neither (they go
    in the second table), folds×seeds in the caption."""
    metric, stacked = section.metric, not with_cost
    join = "\n" if stacked else " "
    table = _table(section, section.title, stacked)
    names = ("mean ± sd", "gain [95% CI]", "p", "won") if stacked else ("k×r", "mean ± sd", "gain [95% CI]", "p (Holm)", "won", "P(>δ/≈/<−δ)")
    for name in names:
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("verdict", min_width=12)
    if section.has_capacity:
        table.add_column("vs capacity control", min_width=12)
    if with_cost:
        for name in ("params +", "GMACs +", "latency +"):
            table.add_column(name, justify="right")
    for setting in section.settings:
        mean = _format.mean_sd(setting.baseline_mean, setting.baseline_sd, metric).replace(" ±", join + "±")
        row = [""] * len(table.columns)
        row[0], row[1 + names.index("mean ± sd")] = f"[dim]{escape(setting.title)}[/]", f"[dim]{mean}[/]"
        table.add_row(*row)
        for comp in setting.comparisons:
            cells = [
                escape(_format.spec_label(comp.variant)),
                *([] if stacked else [_format.runs(comp)]),
                _format.mean_sd(comp.variant_mean, comp.variant_sd, metric).replace(" ±", join + "±"),
                _format.gain_ci(comp).replace(" [", join + "["),
                _format.p_value(comp.shown_p),
                _format.folds_won(comp),
                *([] if stacked else [_format.posterior(comp).replace(" / ", "/")]),
                _verdict(comp, join),
                *([_capacity(comp, join)] if section.has_capacity else []),
            ]
            table.add_row(*cells, *(_cost_cells(comp) if with_cost else []))
    return table


def _cost_table(section: Section) -> Table:
    table = _table(section, f"{section.title} · P(gain > δ) and cost added over the baseline", stacked=True)
    for name in ("P(>δ)", "params +", "GMACs +", "latency +"):
        table.add_column(name, justify="right")
    for setting in section.settings:
        for comp in setting.comparisons:
            cells = [cell.replace(" (", "\n(") for cell in _cost_cells(comp)]
            name = _format.spec_label(comp.variant) + (f"\n({setting.label})" if setting.label else "")
            table.add_row(escape(name), _format.probability(comp.prob_above_delta), *cells)
    return table


def _values_table(section: Section, rows: list[SpecValues], title: str) -> Table:
    """Spec rows, one ``mean ± sd`` column per metric (↑ higher / ↓ lower is better)."""
    header, cells = values_table(rows, _format.spec_label, compact=True)
    table = Table(title=f"{section.dataset} · {title}", box=box.SIMPLE_HEAD, padding=(0, 1))
    table.add_column(header[0], min_width=min(max(len(row[0]) for row in cells), 24), overflow="fold")
    for name in header[1:]:
        table.add_column(name, justify="right", no_wrap=True)
    for row in cells:
        table.add_row(escape(row[0]), *(escape(cell).replace(" ±", "\n±") for cell in row[1:]))
    return table


def print_report(console: Console, report: Report) -> None:
    """One verdict table per section with its caption, then each refused comparison's reason."""
    if not report.comparisons:
        console.print(f"no variant with a baseline to compare yet; {MAKE_RUNS}")
        return
    for section in report.sections:
        wide = _quality_table(section, with_cost=True)
        natural = Measurement.get(console, console.options.update(max_width=10_000), wide).maximum
        if natural <= console.width:
            console.print(wide)
        else:
            console.print(_quality_table(section, with_cost=False))
            console.print(_cost_table(section))
        console.print(f"[dim]{escape(_caption(section))}[/]")
        for line in implementation_lines(section, report):
            console.print(f"[dim]{escape(line)}[/]")
        for calibration in section.calibrations():
            console.print(f"[cyan]{escape(calibration.summary())}[/]")
        for line in capacity_lines(section):
            console.print(f"[cyan]{escape(line)}[/]")
        for comp in section.comparisons:
            if comp.reason:
                console.print(f"[yellow]{escape(_format.spec_label(comp.variant))}[/]: {escape(comp.reason)}")
        for rows, title, note in ((section.validation, VALIDATION_TITLE, VALIDATION_NOTE), (section.test, TEST_TITLE, TEST_NOTE)):
            if rows:
                console.print(_values_table(section, rows, title))
                console.print(f"[dim]{escape(note)} ↑ higher is better, ↓ lower is better.[/]")
        console.print()
    console.print(f"[dim]{escape(scope_text(report))}[/]")
    if report.study is not None:
        from suite.reports.terminal_study import print_study

        print_study(console, report.study)


def print_across(console: Console, across: AcrossReport) -> None:
    """Verdicts side by side per insertion, the Wilcoxon test on gain / delta, then the ranking."""
    table = Table(title="Across datasets · verdict and gain / delta per task", box=box.HEAVY_HEAD, padding=(0, 1))
    table.add_column("module", no_wrap=True)
    for name in across.task_names:
        table.add_column(name, justify="right")
    for name in ("wins", "median gain/δ", "Wilcoxon p"):
        table.add_column(name, justify="right", no_wrap=True)
    for insertion in across.insertions:
        by_task = {task.name: task for task in insertion.tasks}
        cells = []
        for name in across.task_names:
            task = by_task.get(name)
            cells.append("" if task is None else f"[{style(task.verdict).terminal}]{task.cell}[/]")
        median = "–" if insertion.median_gain_in_deltas is None else f"{insertion.median_gain_in_deltas:+.2f}"
        table.add_row(escape(insertion.label), *cells, f"{insertion.wins}/{insertion.tested}", median, _format.p_value(insertion.wilcoxon_p))
    console.print(table)
    console.print(f"[dim]{escape(CELL_NOTE)}[/]")
    for insertion in across.insertions:
        if insertion.note:
            console.print(f"[dim]{escape(insertion.label)}: {escape(insertion.note)}[/]")
    if across.skipped:
        console.print(f"[dim]On fewer than 3 datasets, not compared across: {escape(', '.join(across.skipped))}[/]")
    ranking = across.ranking
    if ranking is None:
        console.print("[dim]No complete block of 3 datasets shared by the modules: no ranking.[/]")
        return
    ranks = Table(title=f"Average rank over {len(ranking.datasets)} datasets (1 = best)", box=box.SIMPLE_HEAD)
    ranks.add_column("population")
    ranks.add_column("mean rank", justify="right")
    for population, rank in sorted(ranking.mean_ranks.items(), key=lambda item: item[1]):
        ranks.add_row(escape(population), f"{rank:.2f}")
    console.print(ranks)
    parts = [ranking.method]
    if ranking.omnibus_p is not None:
        parts.append(f"{ranking.omnibus} p {_format.p_value(ranking.omnibus_p)}")
    if ranking.critical_difference is not None:
        parts.append(f"Nemenyi critical difference {ranking.critical_difference:.2f} (ranks further apart differ at 0.05)")
    else:
        parts.append("no critical difference: autorank's Nemenyi needs 5 or more tasks")
    if ranking.dropped:
        parts.append(f"left out to keep the block complete: {', '.join(ranking.dropped)}")
    console.print(f"[dim]{escape('; '.join(parts))}. Datasets: {escape(', '.join(ranking.datasets))}.[/]")
