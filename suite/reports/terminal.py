"""The verdict tables in the terminal (rich): one table when it fits the console; on narrow ones (CI logs
are 80 columns) a quality table with stacked cells and a separate cost table, so nothing is cut off."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from suite.errors import SuiteError
from suite.report import MAKE_RUNS, Section, sections
from suite.reports import _format
from suite.spec import compact
from suite.verdict import Comparison

VERDICT_STYLES = {"holds": "bold green", "worse": "bold red", "no practical gain": "cyan", "inconclusive": "yellow"}


def _label(variant: str) -> str:
    """The variant's compact spec; a stored spec this version cannot resolve is shown as stored."""
    try:
        return compact(variant)
    except SuiteError:
        return variant


def _caption(section: Section) -> str:
    comps, metric = section.comparisons, section.metric
    unit = "%, gains in percentage points" if _format.decimals(metric) == 2 else "fraction 0-1"
    grids = ", ".join(sorted({_format.runs(c) for c in comps}))
    return (
        f"{metric} ({unit}), mean ± sd over folds × seeds ({grids}); delta ±{_format.value(section.delta, metric)}. "
        "p: corrected resampled t-test (Nadeau & Bengio) on per-fold gains, one-sided in the direction of the gain, "
        f"Holm across these {sum(c.has_stats for c in comps)} variants. {_format.cost_units(comps)}."
    )


def _verdict(comp: Comparison, join: str) -> str:
    text = comp.verdict if comp.reason is None else f"inconclusive{join}(refused)"
    if comp.reason is None and comp.verdict == "inconclusive" and comp.mde is not None:
        text += f"{join}(MDE {_format.value(comp.mde, comp.metric)})"
    return f"[{VERDICT_STYLES[comp.verdict]}]{text}[/]"


def _cost_cells(comp: Comparison) -> list[str]:
    return [_format.params_added(comp), _format.gmacs_added(comp), _format.latency_added(comp)]


def _table(section: Section, title: str, stacked: bool) -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD if stacked else box.HEAVY_HEAD, padding=(0, 1))
    longest = max(len(_label(c.variant)) for c in section.comparisons)
    table.add_column("variant", min_width=min(longest, 16 if stacked else 32), overflow="fold")
    return table


def _quality_table(section: Section, with_cost: bool) -> Table:
    """Wide: one line per variant, cost included. Stacked: two-line cells, no cost, folds×seeds in the caption."""
    metric, stacked = section.metric, not with_cost
    join = "\n" if stacked else " "
    table = _table(section, section.title, stacked)
    names = (
        ("mean ± sd", "gain [95% CI]", "p", "won")
        if stacked
        else ("k×r", "mean ± sd", "gain [95% CI]", "p (Holm)", "won")
    )
    for name in names:
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("verdict", min_width=12)
    if with_cost:
        for name in ("params +", "GMACs +", "latency +"):
            table.add_column(name, justify="right")
    for baseline, carrier in section.baselines():
        mean = _format.mean_sd(carrier.baseline_mean, carrier.baseline_sd, metric).replace(" ±", join + "±")
        row = [""] * len(table.columns)
        row[0], row[1 + names.index("mean ± sd")] = f"[dim]{baseline} (baseline)[/]", f"[dim]{mean}[/]"
        table.add_row(*row)
        for comp in (c for c in section.comparisons if c.baseline == baseline):
            cells = [
                _label(comp.variant),
                *([] if stacked else [_format.runs(comp)]),
                _format.mean_sd(comp.variant_mean, comp.variant_sd, metric).replace(" ±", join + "±"),
                _format.gain_ci(comp).replace(" [", join + "["),
                _format.p_value(comp.shown_p),
                _format.folds_won(comp),
                _verdict(comp, join),
            ]
            table.add_row(*cells, *(_cost_cells(comp) if with_cost else []))
    return table


def _cost_table(section: Section) -> Table:
    table = _table(section, f"{section.title} · cost added over the baseline", stacked=True)
    for name in ("params +", "GMACs +", "latency +"):
        table.add_column(name, justify="right")
    for comp in section.comparisons:
        table.add_row(_label(comp.variant), *_cost_cells(comp))
    return table


def print_comparison(console: Console, comparisons: list[Comparison]) -> None:
    """One verdict table per dataset and metric with its caption, then each refused comparison's reason."""
    if not comparisons:
        console.print(f"no variant with a baseline to compare yet; {MAKE_RUNS}")
        return
    for section in sections(comparisons):
        wide = _quality_table(section, with_cost=True)
        natural = Measurement.get(console, console.options.update(max_width=10_000), wide).maximum
        if natural <= console.width:
            console.print(wide)
        else:
            console.print(_quality_table(section, with_cost=False))
            console.print(_cost_table(section))
        console.print(f"[dim]{_caption(section)}[/]")
        for comp in section.comparisons:
            if comp.reason:
                console.print(f"[yellow]{_label(comp.variant)}[/]: {comp.reason}")
        console.print()
