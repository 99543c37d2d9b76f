"""The verdict labels, best to worst, and the CI gates over them (``suite report --fail-on``).

A light module (no numpy, no scipy) so the command line can name the gates without loading the statistics.
"""

HOLDS_BEYOND_DELTA = "holds (>= delta)"
HOLDS = "holds"
NO_PRACTICAL_GAIN = "no practical gain"
INCONCLUSIVE = "inconclusive"
SMALL_LOSS = "small loss"
WORSE = "worse"
# Best to worst; the order of every legend and count.
VERDICTS = (HOLDS_BEYOND_DELTA, HOLDS, NO_PRACTICAL_GAIN, INCONCLUSIVE, SMALL_LOSS, WORSE)

# What follows the verdict of a variant that holds, once it is also compared with its capacity-matched
# control (a baseline made as big; ``suite.capacity``): "holds, and beyond capacity" when the variant
# beats that control too by the same rule, "holds, but a baseline as big does as well" when it does not.
BEYOND_CAPACITY = "and beyond capacity"
NOT_BEYOND_CAPACITY = "but a baseline as big does as well"

# What each --fail-on gate lets through; every other verdict fails it.
GATES: dict[str, tuple[str, ...]] = {
    "worse": tuple(v for v in VERDICTS if v != WORSE),
    "loss": tuple(v for v in VERDICTS if v not in (WORSE, SMALL_LOSS)),
    "not-holds": (HOLDS_BEYOND_DELTA, HOLDS),
    "not-holds-delta": (HOLDS_BEYOND_DELTA,),
    "not-beyond-capacity": (HOLDS_BEYOND_DELTA, HOLDS),  # and beyond capacity (``Comparison.beyond_capacity``)
}
CAPACITY_GATES = ("not-beyond-capacity",)
GATE_MEANINGS = {
    "worse": "any variant is worse",
    "loss": "any variant is worse or shows a small loss",
    "not-holds": "any variant does not hold",
    "not-holds-delta": "any variant does not hold with its 95% CI above delta",
    "not-beyond-capacity": "any variant does not hold, or does not beat its capacity-matched control (--control capacity)",
}
