"""Studies: named, stored expansions of one question into ordinary runs. A planned grid (``suite run``),
a position sweep (``sweep``), an ablation (``ablation``) and a small-data trial (``plan``: one grid per
train fraction) are each recorded in the store with their design; a study's members are the comparisons
it set out to test, and so the Holm family of its verdicts: adding an unrelated variant to the store
never changes them. ``effects`` gives an ablation's main effects, interactions and leave-one-out drops."""

from suite.studies.record import Study, grid_study

__all__ = ["Study", "grid_study"]
