"""A study as the store keeps it: kind, design, planned members, and the family they make."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from suite.errors import SuiteError
from suite.records import stable_hash
from suite.verdict import Member, Plan


@dataclass(frozen=True)
class Study:
    id: str  # hash of kind and members: the same plan is one study, however often it is run
    name: str
    kind: str  # "grid", "sweep", "ablation" or "fractions" (suite.studies.plan.STUDY_KINDS)
    design: dict  # what was asked, as JSON-ready data
    members: tuple[Member, ...]  # (variant, dataset, manifest hash, recipe hash), sorted
    created_at: str

    def plan(self) -> Plan:
        """The Holm family of the study's verdicts."""
        return Plan(f"{self.kind} {self.name}", frozenset(self.members))


def make_study(kind: str, design: dict, members: list[Member]) -> Study:
    """The study of ``members``; its id is the hash of its kind, members and capacity controls (a grid run
    with ``--control capacity`` is another study than the same grid without)."""
    ordered = tuple(sorted(set(members)))
    controls = {"controls": design["controls"]} if design.get("controls") else {}
    study_id = stable_hash({"kind": kind, "members": ordered, **controls})
    created = datetime.now(UTC).replace(microsecond=0).isoformat()
    return Study(study_id, f"{kind}-{study_id[:8]}", kind, design, ordered, created)


def grid_study(design: dict, variants: list[str], dataset: str, manifest_hash: str, recipe_hashes: dict[str, str]) -> Study:
    """The study of one planned grid: its variants (not the baselines) on its dataset, split and recipes."""
    return make_study("grid", design, [(v, dataset, manifest_hash, recipe_hashes[v]) for v in variants])


def find_study(studies: list[Study], name: str) -> Study:
    """The study called ``name`` (or whose name or id starts with it); one line naming the stored ones otherwise."""
    found = [s for s in studies if s.name == name]
    found = found or [s for s in studies if s.name.startswith(name) or s.id.startswith(name.lower())]
    if len(found) == 1:
        return found[0]
    names = ", ".join(s.name for s in studies[-8:]) or "none yet (suite run, sweep and ablate record one each)"
    problem = "matches several studies" if found else "is not a study in the store"
    raise SuiteError(f"{name!r} {problem}; studies in the store: {names}")
