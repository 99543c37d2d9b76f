"""The parts of a variant spec: ``Spec`` > ``Insertion`` > a unit (a ``Module`` or a ``Composite``).

A unit is what one insertion places at each of its points: one registered module with its arguments
(``se(rd_ratio=0.25)``), or a composite of such units, serial (``(se>simam)``: se, then simam) or
parallel (``(se|sa):wsum``: both on the same input, merged by a fusion of ``suite.kinds.FUSIONS``).
Each part prints as the spec text it was parsed from, so ``parse(str(spec)) == spec``. An ablation
takes an insertion apart with ``Insertion.parts`` (each top-level member alone) and ``Insertion.without``
(the composite less one member).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Union

_BARE_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_\-.]*")
SEPARATORS = {"serial": ">", "parallel": "|"}

Kwargs = tuple[tuple[str, object], ...]


def format_value(value: object) -> str:
    """A keyword value as a spec writes it: true/false, a number, a bare word, a quoted string or a
    tuple of these, ``(16,32)`` (one value: ``(16,)``)."""
    if isinstance(value, str):
        return value if _BARE_WORD.fullmatch(value) and value not in ("True", "False") else repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "(" + ",".join(map(format_value, value)) + ("," if len(value) == 1 else "") + ")"
    return repr(value)


def format_kwargs(kwargs: Kwargs) -> str:
    return "(" + ",".join(f"{k}={format_value(v)}" for k, v in kwargs) + ")" if kwargs else ""


@dataclass(frozen=True)
class Module:
    """One registered module and the user's arguments for it (sorted by name)."""

    name: str
    kwargs: Kwargs = ()

    def __str__(self) -> str:
        return self.name + format_kwargs(self.kwargs)

    def leaves(self) -> tuple["Module", ...]:
        return (self,)

    @property
    def depth(self) -> int:
        return 0


@dataclass(frozen=True)
class Composite:
    """Units combined into one module: ``serial`` applies them in order, ``parallel`` applies each to the
    same input and merges the outputs by ``fusion`` (None: the default, ``sum``)."""

    op: str  # "serial" | "parallel"
    members: tuple["Unit", ...]
    fusion: str | None = None  # parallel only

    def __str__(self) -> str:
        text = "(" + SEPARATORS[self.op].join(map(str, self.members)) + ")"
        return text + (f":{self.fusion}" if self.fusion else "")

    def leaves(self) -> tuple[Module, ...]:
        """Every module of the composite, depth first, in order."""
        return tuple(leaf for member in self.members for leaf in member.leaves())

    @property
    def depth(self) -> int:
        """Parenthesised levels: 1 for ``(se|sa)``, 2 for ``((se|sa)>simam)``."""
        return 1 + max(member.depth for member in self.members)


Unit = Union[Module, Composite]


@dataclass(frozen=True)
class Insertion:
    """One unit placed at some points of the baseline, in one mode.

    ``module`` is the registered module's name, or for a composite its text (``(se|sa)``), so every
    insertion has one label; ``composite`` holds the composite's structure (None for one module).
    """

    module: str
    kwargs: Kwargs = ()
    points: tuple[str, ...] = ()  # empty: the baseline's default points for the unit's kind
    mode: str | None = None  # None: the default mode of the unit's kind
    composite: Composite | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.composite is not None:
            object.__setattr__(self, "module", str(self.composite))
            object.__setattr__(self, "kwargs", ())

    @classmethod
    def of(cls, unit: Unit, points: tuple[str, ...] = (), mode: str | None = None) -> "Insertion":
        if isinstance(unit, Composite):
            return cls(str(unit), (), points, mode, unit)
        return cls(unit.name, unit.kwargs, points, mode)

    @property
    def unit(self) -> Unit:
        return self.composite if self.composite is not None else Module(self.module, self.kwargs)

    def leaves(self) -> tuple[Module, ...]:
        """The registered modules this insertion builds (one, or every member of a composite)."""
        return self.unit.leaves()

    def parts(self) -> tuple["Insertion", ...]:
        """Each top-level member of a composite as an insertion of its own, at the same points and in the
        same mode (``(se|sa):sum@dec1`` -> ``se@dec1``, ``sa@dec1``); a plain insertion is its one part."""
        if self.composite is None:
            return (self,)
        return tuple(Insertion.of(member, self.points, self.mode) for member in self.composite.members)

    def without(self, index: int) -> "Insertion":
        """The composite less its top-level member ``index``; one member left is an insertion of its own."""
        if self.composite is None:
            raise ValueError(f"{self.module} is no composite; it has no member to leave out")
        members = tuple(m for i, m in enumerate(self.composite.members) if i != index)
        if len(members) == len(self.composite.members):
            raise IndexError(f"{self.module} has no member {index}")
        unit = members[0] if len(members) == 1 else replace(self.composite, members=members)
        return Insertion.of(unit, self.points, self.mode)

    def __str__(self) -> str:
        text = str(self.unit)
        if self.points:
            text += "@" + ",".join(self.points)
        if self.mode:
            text += ":" + self.mode
        return text


@dataclass(frozen=True)
class Spec:
    """A baseline, its arguments (``unet(width=18)``) and the insertions stitched into it, in order."""

    baseline: str
    insertions: tuple[Insertion, ...] = ()
    baseline_kwargs: Kwargs = ()

    def __str__(self) -> str:
        return "+".join([self.baseline + format_kwargs(self.baseline_kwargs), *map(str, self.insertions)])

    @property
    def is_baseline(self) -> bool:
        """The plain baseline under its recipe: no insertions and no arguments of its own."""
        return not self.insertions and not self.baseline_kwargs

    @property
    def modules(self) -> tuple[str, ...]:
        """One label per insertion: the module's name, or a composite's text."""
        return tuple(ins.module for ins in self.insertions)
