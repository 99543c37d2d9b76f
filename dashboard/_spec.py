"""The resolved form of a stored variant: where each module went, with the channels it was built for.

``placements`` rebuilds the variant as its runs trained it (the dataset card gives task, classes and
input channels; the stored recipe gives image size and baseline kwargs) and lists ``build_variant``'s
placements: point, channels, stride, layout, resolved hyperparameters and the parameters each adds.
Where it cannot be rebuilt here (a dataset or module this install does not register), ``insertions``
lists what the canonical spec alone says.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from suite.modules import MODULES
from suite.spec import KIND_MODES, insertion_kind, parse


@st.cache_data(show_spinner="Building the variant to show its placements ...")
def placements(spec: str, dataset: str, recipe: dict) -> pd.DataFrame:
    """One row per (module, point) as built for ``dataset`` and ``recipe``; raises ``SuiteError`` if it cannot build."""
    from suite.build import build_variant
    from suite.datasets import DATASETS

    card = DATASETS.entry(dataset).meta["card"]
    num_classes = 1 if card.task == "seg" else len(card.classes)
    built = build_variant(spec, card.task, num_classes, card.in_channels, recipe["image_size"], **recipe["model"])
    rows = [
        {
            "module": p.module,
            "kind": p.kind,
            "point": p.point,
            "mode": p.mode,
            "channels": p.channels,
            "stride": p.stride,
            "layout": p.layout,
            "hparams": json.dumps(p.hparams, sort_keys=True, default=str),
            "params added": p.params,
        }
        for p in built.placements
    ]
    return pd.DataFrame(rows)


def insertions(spec: str) -> pd.DataFrame:
    """One row per insertion of the canonical spec: module (or composite), kind, points, mode, kwargs."""
    rows = []
    for insertion in parse(spec).insertions:
        known = all(leaf.name in MODULES for leaf in insertion.leaves())
        kind = insertion_kind(insertion) if known else "not registered here"
        rows.append(
            {
                "module": insertion.module,
                "kind": kind,
                "points": ", ".join(insertion.points),
                "mode": insertion.mode or (KIND_MODES[kind][0] if kind in KIND_MODES else ""),
                "kwargs": ", ".join(f"{k}={v}" for k, v in insertion.kwargs) or "defaults",
            }
        )
    return pd.DataFrame(rows)


def papers(spec: str) -> list[str]:
    """``se: Squeeze-and-Excitation Networks (arXiv:1709.01507)`` for each registered module of ``spec``
    (each member of a composite)."""
    found = []
    for name in dict.fromkeys(leaf.name for insertion in parse(spec).insertions for leaf in insertion.leaves()):
        if name in MODULES and "paper" in MODULES.entry(name).meta:
            meta = MODULES.entry(name).meta
            found.append(f"{name}: {meta['paper']}" + (f" (arXiv:{meta['arxiv']})" if meta.get("arxiv") else ""))
    return found
