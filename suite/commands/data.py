"""``suite data``: list the datasets, fetch one, verify one on disk, make or show its fold manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from suite.errors import DataError

data_app = typer.Typer(
    name="data",
    help="Datasets: list, fetch, verify files on disk, make k-fold manifests.",
    no_args_is_help=True,
)
RootOption = typer.Option(
    None, "--root", "--data-root", help="Folder (or npz file) to read; default: $SUITE_DATA/NAME or the user cache."
)


def _console() -> Console:
    return Console(soft_wrap=True, markup=False)


def _presence(name: str) -> str:
    """'yes', 'no', 'incomplete' or 'always (...)' for bundled and generated sets; reads no pixels."""
    from suite.datasets import DATASETS, resolve_root

    entry = DATASETS.entry(name)
    card = entry.meta["card"]
    if card.origin in ("bundled", "generated"):
        return f"always ({card.origin})"
    scan = entry.obj(resolve_root(name), card)
    if scan.missing:
        return "no"
    return "incomplete" if scan.problems else "yes"


def _where(name: str) -> str:
    from suite.datasets import DATASETS, resolve_root

    origin = DATASETS.entry(name).meta["card"].origin
    if origin == "bundled":
        return "inside scikit-learn"
    if origin == "generated":
        return "generated in memory"
    return str(resolve_root(name))


@data_app.command("list")
def list_datasets() -> None:
    """Every dataset: task, samples, license, where it would be read from, whether it is there."""
    from suite.datasets import DATASETS

    table = Table(title="datasets (--root overrides where a set is read from)")
    for column in ("name", "task", "samples", "license", "read from", "present"):
        table.add_column(column, overflow="fold")
    for name in DATASETS.list():
        card = DATASETS.entry(name).meta["card"]
        samples = " + ".join(f"{n:,} {split}" for split, n in card.samples.items()) or "varies (npz)"
        table.add_row(card.label, card.task, samples, card.license.split(";")[0], _where(name), _presence(name))
    _console().print(table)


@data_app.command("fetch")
def fetch_dataset(
    name: str = typer.Argument(..., help="Dataset name (see `suite data list`)."), root: Optional[Path] = RootOption
) -> None:
    """Download a dataset's files, check their checksums and unpack them."""
    from suite.datasets import DATASETS, fetch, resolve_root, scan_dataset

    card = DATASETS.entry(name).meta["card"]
    if card.origin in ("bundled", "generated"):
        where = "ships inside scikit-learn" if card.origin == "bundled" else "is generated in memory on first use"
        _console().print(f"{card.label}: nothing to fetch, it {where}")
        return
    target = resolve_root(card.name, root)
    fetch(card, target)
    _, scan = scan_dataset(card.name, target, download=False)
    counts = ", ".join(f"{n} {split}" for split, n in scan.count.items())
    _console().print(f"{card.name}: files in {scan.root}" + (f" ({counts} samples)" if counts else ""))


def _print_report(report) -> None:
    console = _console()
    table = Table(title=f"{report.dataset} at {report.root}")
    for column in ("split", "samples", "publisher's count", "per class / stratum", "foreground share", "empty masks"):
        table.add_column(column, overflow="fold")
    for split, count in report.counts.items():
        classes = ", ".join(f"{k} {v}" for k, v in report.per_class.get(split, {}).items()) or "-"
        share = f"{report.foreground[split]:.1%}" if split in report.foreground else "-"
        table.add_row(
            split,
            str(count),
            str(report.expected.get(split, "-")),
            classes,
            share,
            str(report.empty_masks.get(split, "-")),
        )
    console.print(table)
    sizes = ", ".join(f"{w}x{h} px: {n}" for (w, h), n in report.image_sizes.most_common(5))
    console.print(f"image sizes: {sizes or '-'}")
    if report.groups:
        console.print("groups: " + ", ".join(f"{split} {n}" for split, n in report.groups.items()))
    for note in report.notes:
        console.print(f"note: {note}")


@data_app.command("verify")
def verify(name: str = typer.Argument(..., help="Dataset name."), root: Optional[Path] = RootOption) -> None:
    """Check counts, image/mask pairing, sizes and mask values; exit 1 listing every problem."""
    from suite.datasets import verify_dataset

    report = verify_dataset(name, root)
    _print_report(report)
    if not report.ok:
        err = Console(stderr=True, soft_wrap=True, markup=False)
        err.print(f"{len(report.problems)} problem(s) in {report.root}:")
        for problem in report.problems:
            err.print(f"  - {problem}")
        raise typer.Exit(DataError.exit_code)
    _console().print(f"ok: {sum(report.counts.values())} samples of {report.dataset} verified")


@data_app.command("folds")
def folds(
    name: str = typer.Argument(..., help="Dataset name."),
    k: int = typer.Option(5, "--k", "--folds", help="Number of folds."),
    seed: int = typer.Option(0, "--seed", help="Split seed."),
    root: Optional[Path] = RootOption,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Write (or find) the k-fold manifest; print its path, SHA-256 and per-fold counts."""
    from suite.datasets import load_dataset, make_manifest

    manifest = make_manifest(load_dataset(name, root), k, seed)
    rows = [{"fold": i, "n_train": manifest.n_train(i), "n_val": manifest.n_val(i)} for i in range(manifest.k)]
    if as_json:
        payload = {
            "dataset": manifest.dataset,
            "k": k,
            "seed": seed,
            "path": str(manifest.path),
            "sha256": manifest.sha256,
            "splitter": manifest.splitter,
            "kind": manifest.kind,
            "folds": rows,
        }
        typer.echo(json.dumps(payload, indent=2))
        return
    console = _console()
    console.print(f"manifest: {manifest.path}")
    console.print(f"sha256:   {manifest.sha256}")
    console.print(f"splitter: {manifest.splitter} ({manifest.kind} folds)")
    table = Table()
    for column in ("fold", "train samples", "validation samples"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(str(row["fold"]), str(row["n_train"]), str(row["n_val"]))
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")
