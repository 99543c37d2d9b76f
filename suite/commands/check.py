"""``suite check MODULE|PATH.py``: run the contract suite (``suite.contract``) on one module and say
what fails, one line per failure; exit code 1 when anything fails.

MODULE is a registered module (``se``), a module with arguments (``se(rd_ratio=0.25)``) or a composite
(``(se|sa):wsum``); PATH.py is a plugin file, whose every module is checked.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

CHECK_HELP = "\n\n".join(
    [
        "Run the contract suite on MODULE (se, se(rd_ratio=0.25), (se|sa):wsum) or on every module a plugin "
        "file PATH.py registers, and print one line per failure; exit code 1 if any check fails.",
        "Checks: the kind's output shape and finite values at reference points of the baselines (unet dec2 "
        "for attention: 16 channels) and the cases of the kind's contract those miss, on 7x7, 13x17, 2x2, 1x3 "
        "and 1x1 maps (those below the module's min_positions left out), batch 1, gradients, channels_last "
        "with bf16 autocast on CPU, the same output from the same seed, params and GMACs (fvcore, cross-checked "
        "with torch's FlopCounterMode); inside every baseline with points of its kind: every point in every "
        "mode (shapes, a fresh module per point, runs once, gradients) and, for gated modes, the baseline's "
        "output at initialisation. --compile adds torch.compile (slow).",
    ]
)


def register(app: typer.Typer) -> None:
    app.command("check", help=CHECK_HELP)(check_command)


def check_command(
    target: str = typer.Argument(..., metavar="MODULE|PATH.py", help="A module, a composite, or a plugin file."),
    compile_: bool = typer.Option(False, "--compile", help="Also check torch.compile against eager (slow)."),
    baseline: str = typer.Option("*", "--baseline", "-b", help="Place it only in the baselines matching this glob."),
) -> None:
    from suite import contract
    from suite.baselines import BASELINES
    from suite.errors import SuiteError
    from suite.plugins import use

    if not BASELINES.list(baseline):
        raise SuiteError(f"--baseline {baseline!r} matches no baseline; baselines: {', '.join(BASELINES.list())}")
    modules = use([target]) if target.endswith(".py") or Path(target).is_file() else [target]
    console = Console(highlight=False, soft_wrap=True)
    failed = 0
    for module in modules:
        checks = contract.checks_for(module, compile=compile_, baselines=baseline)
        outcomes = _run_all(checks)
        failed += _print(console, module, outcomes)
    if failed:
        raise typer.Exit(1)


def _run_all(checks: list) -> list:
    from suite import contract

    outcomes = []
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        console=Console(stderr=True), transient=True,
    ) as progress:
        task = progress.add_task(f"checking {checks[0].subject}", total=len(checks))
        for check in checks:
            progress.update(task, description=f"{check.subject}: {check.name} {check.where}")
            outcomes.append(contract.run(check))
            progress.advance(task)
    return outcomes


def _print(console: Console, module: str, outcomes: list) -> int:
    """The module's heading, its cost, and one line per failed check; returns the number failed."""
    from suite.contract import Subject
    from suite.plugins import origin_label
    from suite.spec import Module

    subject = Subject.of(module)
    unit = subject.unit
    origin = origin_label(unit.name) if isinstance(unit, Module) else "composite"
    console.print(f"[bold]{escape(subject.name)}[/bold]: {subject.kind} module ({escape(origin)}), {len(outcomes)} checks")
    for outcome in outcomes:
        if outcome.passed and outcome.note and outcome.check.name == "cost":
            console.print(outcome.note)
    failures = [outcome for outcome in outcomes if not outcome.passed]
    if failures:
        rows = [("check", "where", "problem")] + [(o.check.name, o.check.where, o.problem) for o in failures]
        widths = [max(len(row[i]) for row in rows) for i in range(2)]
        for number, (name, where, problem) in enumerate(rows):
            line = f"{name:<{widths[0]}}  {where:<{widths[1]}}  {problem}"
            console.print(f"[bold]{line}[/bold]" if number == 0 else line, markup=number == 0)
        console.print(f"[red]{escape(subject.name)}: {len(failures)} of {len(outcomes)} checks failed[/red]")
    else:
        console.print(f"[green]{escape(subject.name)}: all {len(outcomes)} checks passed[/green]")
    return len(failures)
