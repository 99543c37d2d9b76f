"""Studies: named, stored expansions of one question into ordinary runs (today: the planned grid of
``suite run``). A study's members are the comparisons it set out to test, and so the Holm family of
its verdicts: adding an unrelated variant to the store never changes them."""

from suite.studies.record import Study, grid_study

__all__ = ["Study", "grid_study"]
