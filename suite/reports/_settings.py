"""Settings of a report section: which baseline runs (split and recipe) each variant is compared with.

The same spec may sit in one store under two recipes (``--image-size 32`` and ``64``) or two splits
(``--folds 3`` and ``5``). Each comparison is shown under its own baseline row, and when a baseline has
more than one setting in a section, each block is labelled with what differs: the recipe keys whose
values differ, the number of folds, the split seed, or else the manifest's short hash.
"""

from __future__ import annotations

import pandas as pd

from suite.recipe import OMITTED_AT_DEFAULT
from suite.verdict import Comparison

Key = tuple[str, str, str, str]  # (dataset, baseline, manifest hash, recipe hash)


def _flatten(values: dict, prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for name, value in values.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{name}."))
        else:
            flat[f"{prefix}{name}"] = value
    return flat


def _describe(runs: pd.DataFrame, key: Key) -> dict[str, object]:
    dataset, baseline, manifest, recipe = key
    rows = runs[
        (runs["dataset"] == dataset)
        & (runs["baseline"] == baseline)
        & (runs["manifest_hash"] == manifest)
        & (runs["recipe_hash"] == recipe)
    ]
    if rows.empty:
        return {"split": manifest[:8]}
    first = rows.iloc[0]
    recipe_values = first["recipe"] if isinstance(first.get("recipe"), dict) else {}
    return {
        **OMITTED_AT_DEFAULT,
        **_flatten(recipe_values),
        "folds": int(first["k"]),
        "split seed": int(first.get("split_seed", 0)),
        "split": manifest[:8],
    }


def _labels(keys: list[Key], runs: pd.DataFrame) -> dict[Key, str]:
    described = {key: _describe(runs, key) for key in keys}
    names = list(dict.fromkeys(name for values in described.values() for name in values))
    differing = [n for n in names if n != "split" and len({repr(v.get(n)) for v in described.values()}) > 1]
    if not differing:
        differing = ["split"]
    return {key: ", ".join(f"{n}={described[key].get(n)}" for n in differing) for key in keys}


def group(comparisons: list[Comparison], runs: pd.DataFrame) -> list[tuple[str, str, list[Comparison]]]:
    """(baseline, label, comparisons) per setting, baselines and settings in their first order."""
    blocks: dict[Key, list[Comparison]] = {}
    for comp in comparisons:
        blocks.setdefault((comp.dataset, comp.baseline, comp.manifest_hash, comp.recipe_hash), []).append(comp)
    labels: dict[Key, str] = {}
    for baseline in dict.fromkeys(key[1] for key in blocks):
        keys = [key for key in blocks if key[1] == baseline]
        labels.update(_labels(keys, runs) if len(keys) > 1 else {keys[0]: ""})
    order = list(dict.fromkeys(key[1] for key in blocks))
    ordered = sorted(blocks, key=lambda key: order.index(key[1]))
    return [(key[1], labels[key], blocks[key]) for key in ordered]
