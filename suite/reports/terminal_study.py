"""A study's own tables in the terminal (rich): the position table of a sweep, the effects of an ablation
and the gain by train fraction, each with its caption and its one-line summary. On a console too narrow
for a table, gains and their CIs stack on two lines, as the verdict table's do."""

from __future__ import annotations

from rich import box
from rich.console import Console, Group
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from suite.reports import _format, _study_text
from suite.reports.study_model import EffectTable, FractionCurve, PositionTable, StudyView
from suite.reports.style import style
from suite.verdict import Comparison


def _fits(console: Console, table: Table) -> bool:
    return Measurement.get(console, console.options.update(max_width=10_000), table).maximum <= console.width


def _coloured(text: str, verdict: str | None) -> str:
    return f"[{style(verdict).terminal if verdict else 'dim'}]{escape(text)}[/]"


def _stack(text: str, stacked: bool) -> str:
    return text.replace(" [", "\n[") if stacked else text


def _position_table(table: PositionTable, stacked: bool) -> Table:
    grid = Table(title=_study_text.position_title(table), box=box.HEAVY_HEAD, padding=(0, 1))
    grid.add_column("position", no_wrap=True)
    for column in table.columns:
        grid.add_column(column, justify="right", no_wrap=True)
    for row in table.rows:
        cells = []
        for column in table.columns:
            comp: Comparison | None = table.cells.get((row.position, column))
            gain, params = _study_text.position_cell(comp)
            verdict = comp.verdict if comp is not None and comp.has_stats else None
            cells.append(_coloured(_stack(gain, stacked), verdict) + (f"\n[dim]{escape(params)}[/]" if params else ""))
        grid.add_row(escape(_study_text.position_label(table, row.position)), *cells)
    return grid


def _effects_table(table: EffectTable, stacked: bool) -> Table:
    grid = Table(title=_study_text.effects_title(table), box=box.HEAVY_HEAD, padding=(0, 1))
    settings = list(dict.fromkeys(effect.setting for effect in table.effects))
    if len(settings) > 1:
        grid.add_column("setting", no_wrap=True)
    for index, name in enumerate(_study_text.EFFECT_HEADER):
        numeric = index in (2, 3, 4)
        grid.add_column(name, justify="right" if numeric else "left", no_wrap=numeric, overflow="fold")
    for effect in table.effects:
        text = _study_text.effect_cells(effect)
        cells = [escape(cell) for cell in text[:-1]] + [_coloured(text[-1], effect.verdict if effect.has_stats else None)]
        cells[2] = _stack(cells[2], stacked)
        grid.add_row(*([escape(effect.setting)] if len(settings) > 1 else []), *cells)
    return grid


def _curve_rows(grid: Table, curve: FractionCurve, stacked: bool) -> None:
    for number, point in enumerate(curve.points):
        text = _study_text.curve_cells(curve, point)
        cells = [escape(cell) for cell in text]
        cells[3], cells[4] = (cells[3].replace(" ± ", "\n± "), _stack(cells[4], True)) if stacked else cells[3:5]
        cells[7] = _coloured(text[7], point.comparison.verdict if point.comparison.has_stats else None)
        cells[0] = cells[0] if number == 0 else ""
        grid.add_row(*(cells[1:] if stacked else cells), end_section=number == len(curve.points) - 1)


def _curve_table(curves: list[FractionCurve], stacked: bool) -> Table | Group:
    """One table for the curves of one dataset and metric; on a narrow console, one stacked table per variant."""
    if stacked:
        return Group(*(_curve_variant_table(curves, curve) for curve in curves))
    grid = Table(title=_study_text.curves_title(curves), box=box.HEAVY_HEAD, padding=(0, 1))
    for index, name in enumerate(_study_text.CURVE_HEADER):
        text = index in (0, 7)
        grid.add_column(name, justify="left" if text else "right", no_wrap=not text, overflow="fold")
    for curve in curves:
        _curve_rows(grid, curve, False)
    return grid


def _curve_variant_table(curves: list[FractionCurve], curve: FractionCurve) -> Table:
    title = f"{_study_text.curves_title(curves)} · {_format.spec_label(curve.variant)}"
    grid = Table(title=title, box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False)
    for name in _study_text.CURVE_HEADER[1:-1]:
        grid.add_column(name.replace(" (Holm)", ""), justify="right", no_wrap=True)
    grid.add_column(_study_text.CURVE_HEADER[-1], overflow="fold")
    _curve_rows(grid, curve, True)
    return grid


def _print(console: Console, build, item) -> None:
    wide = build(item, False)
    console.print(wide if _fits(console, wide) else build(item, True))


def print_study(console: Console, view: StudyView) -> None:
    """The study's own tables: position table, effects, fraction curves, each with its caption and summary."""
    console.print()
    console.rule(f"[bold]{escape(view.title)}[/]")
    console.print(f"[dim]{escape(view.describe())}[/]")
    for table in view.positions:
        _print(console, _position_table, table)
        console.print(f"[dim]{escape(_study_text.position_caption(table))}[/]")
        if table.skipped:
            console.print(f"[dim]Skipped: {escape('; '.join(table.skipped))}[/]")
        for line in table.summaries():
            console.print(f"[bold]{escape(line)}[/]")
    for table in view.effects:
        _print(console, _effects_table, table)
        console.print(f"[dim]{escape(_study_text.effects_caption(table))}[/]")
        refused = next((effect for effect in table.effects if effect.reason), None)
        if refused is not None:
            console.print(f"[yellow]refused[/]: {escape(refused.reason)}")
        for line in table.summaries():
            console.print(f"[bold]{escape(line)}[/]")
    for curves in view.curve_groups():
        _print(console, _curve_table, curves)
        console.print(f"[dim]{escape(_study_text.curves_caption(curves))}[/]")
        for curve in curves:
            console.print(f"[bold]{escape(curve.summary())}[/]")
