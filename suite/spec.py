"""Variant specs: parse ``unet+se(rd_ratio=0.25)@dec1,dec2:residual`` and canonicalize it.

Grammar (README, "Variant specs"; the parser is ``suite._spec_parse``)::

    spec      := baseline [ "(" key=value ("," key=value)* ")" ] ( "+" insertion )*
    insertion := unit [ "@" points ] [ ":" mode ]
    unit      := module [ "(" key=value ("," key=value)* ")" ]
               | "(" unit ( ">" unit )+ ")"                       serial: each in turn
               | "(" unit ( "|" unit )+ ")" [ ":" fusion ]        parallel: sum | wsum | cat
    points    := point ( "," point )*      point names, group names or globs (dec*)
    mode      := after | residual | gated | gated_residual | replace   (suite.kinds: per module kind)

``parse`` is purely syntactic (lowercased, kwargs sorted). ``canonical`` resolves a parsed spec against
the registries: baseline arguments checked against its builder and coerced to their types (and kept
as written, since the recipe, not the builder's default, is what an absent one means), points expanded
and sorted, module kwargs checked and coerced the same way and dropped where they equal the module's
defaults, the default mode of the kind dropped;
in a composite every member is canonical, serial groups inside serial groups and sum groups inside sum
groups are flattened (they compute the same), parallel members are sorted (their order changes
nothing but the order of initialisation) and the default fusion ``sum`` is dropped.
``str(canonical(s))`` is the key of every result.
"""

from __future__ import annotations

from dataclasses import replace

from suite._spec_nodes import Composite, Insertion, Module, Spec, Unit, format_value
from suite._spec_parse import MAX_INSERTIONS, Parser
from suite.errors import SuiteError
from suite.kinds import COMPOSITE_KIND, FUSIONS, KIND_MODES, KINDS, MAX_MEMBERS, MAX_NESTING, MODES  # noqa: F401

__all__ = [
    "KIND_MODES",
    "MAX_INSERTIONS",
    "MODES",
    "Composite",
    "Insertion",
    "Module",
    "Spec",
    "Unit",
    "canonical",
    "canonical_unit",
    "compact",
    "format_value",
    "insertion_kind",
    "key",
    "parse",
    "unit_kind",
]

DEFAULT_FUSION = next(iter(FUSIONS))


def parse(text: str) -> Spec:
    """Parse a spec string (syntax only: names are not checked against the registries)."""
    return Parser(text.strip()).spec()


def canonical_unit(text: str | Unit) -> Unit:
    """A module or composite on its own (``se(rd_ratio=0.25)``, ``(se|sa):wsum``), canonical: what
    ``suite check`` and ``suite.module`` take."""
    if isinstance(text, str):
        parser = Parser(text.strip())
        unit = parser.unit(depth=0)
        if parser.pos != len(parser.text):
            raise parser.fail("the end of the module, e.g. se(rd_ratio=0.25) or (se|sa):wsum")
        text = unit
    return _canonical_unit(text)


def unit_kind(unit: Unit) -> str:
    """The kind of a canonical unit: its module's, or ``attention`` for a composite."""
    return COMPOSITE_KIND if isinstance(unit, Composite) else _module_kind(unit.name)


def insertion_kind(insertion: Insertion) -> str:
    """The module kind of an insertion: its module's, or ``attention`` for a composite."""
    return unit_kind(insertion.unit)


def canonical(spec: Spec | str) -> Spec:
    """Resolve against the registries: check the baseline's arguments, expand and sort points, drop
    default kwargs, mode and fusion, sort parallel members.

    Raises ``SuiteError`` naming the valid choices for an unknown baseline, baseline argument, module,
    argument, point or mode, for a composite member that is not an attention module, and for a module
    kind the baseline has no point for.
    """
    from suite.baselines import BASELINES, check_spec_arguments

    spec = parse(spec) if isinstance(spec, str) else spec
    base = BASELINES.entry(spec.baseline)
    catalog = base.meta["catalog"]
    given = check_spec_arguments(base.name, dict(spec.baseline_kwargs))
    label = str(Spec(base.name, (), tuple(sorted(given.items()))))
    insertions: list[Insertion] = []
    for ins in spec.insertions:
        unit = _canonical_unit(ins.unit)
        kind = unit_kind(unit)
        points = catalog.expand(ins.points or catalog.default_points(kind, label, str(unit)))
        for point in points:
            catalog.check_kind(point, kind, str(unit), label)
        modes = KINDS[kind].modes
        mode = ins.mode or modes[0]
        if mode not in modes:
            what = f"a composite ({kind})" if isinstance(unit, Composite) else KINDS[kind].a_module
            raise SuiteError(
                f"{unit} is {what} and cannot go in mode {mode!r}; {kind} modules support: {', '.join(modes)}"
            )
        insertions.append(Insertion.of(unit, points, None if mode == modes[0] else mode))
        _check_once_per_point(label, insertions)
    return Spec(base.name, tuple(insertions), tuple(sorted(given.items())))


def _module_kind(name: str) -> str:
    from suite.modules import MODULES

    return MODULES.entry(name).meta["kind"]


def _canonical_unit(unit: Unit) -> Unit:
    if isinstance(unit, Module):
        return _canonical_module(unit)
    if unit.depth > MAX_NESTING or len(unit.leaves()) > MAX_MEMBERS:
        raise SuiteError(
            f"composite {unit} is too large: at most {MAX_MEMBERS} modules nested at most {MAX_NESTING} levels deep"
        )
    fusion = None if unit.fusion in (None, DEFAULT_FUSION) else unit.fusion
    if unit.op == "parallel" and unit.fusion not in (None, *FUSIONS):
        raise SuiteError(f"unknown fusion {unit.fusion!r} in {unit}; fusions: {', '.join(FUSIONS)}")
    members: list[Unit] = []
    for member in unit.members:
        member = _canonical_unit(member)
        if isinstance(member, Module) and _module_kind(member.name) != COMPOSITE_KIND:
            raise SuiteError(
                f"{member.name} is {KINDS[_module_kind(member.name)].a_module}; a composite combines {COMPOSITE_KIND} "
                f"modules only (it acts as one {COMPOSITE_KIND} module at each point), e.g. (se|sa) or (se>simam)"
            )
        same = isinstance(member, Composite) and member.op == unit.op and member.fusion is None and fusion is None
        members.extend(member.members if same else [member])
    if unit.op == "parallel":
        members.sort(key=str)
    return Composite(unit.op, tuple(members), fusion if unit.op == "parallel" else None)


def _canonical_module(unit: Module) -> Module:
    """The module's registered name and the arguments that differ from its defaults, each checked and
    coerced to its default's type first (``rd_ratio=1`` is ``rd_ratio=1.0``: one network, one key)."""
    from suite._arguments import check_arguments
    from suite.modules import MODULES, module_defaults

    entry = MODULES.entry(unit.name)
    defaults = module_defaults(entry.name)
    given = check_arguments(f"module {entry.name!r}", dict(unit.kwargs), defaults)
    return Module(entry.name, tuple((k, v) for k, v in sorted(given.items()) if not _same(v, defaults[k])))


def _same(value: object, default: object) -> bool:
    """A checked value equals the default it was coerced to (a None default: only None)."""
    if isinstance(default, (tuple, list)):
        return tuple(default) == value
    return type(value) is type(default) and value == default


def _check_once_per_point(baseline: str, insertions: list[Insertion]) -> None:
    """A module (or composite) goes at most once at a point: the last insertion may not repeat an earlier
    one's module at a point they share (different modules at one point stack in spec order)."""
    last = insertions[-1]
    for number, earlier in enumerate(insertions[:-1], start=1):
        shared = [p for p in last.points if earlier.module == last.module and p in earlier.points]
        if shared:
            raise SuiteError(
                f"{last.module} is placed twice at {baseline} point {shared[0]!r} (insertions {number} and "
                f"{len(insertions)}); a module goes at most once per point: drop one of them, or name "
                f"every point in one insertion, e.g. "
                f"{baseline}+{last.module}@{','.join(dict.fromkeys(earlier.points + last.points))}"
            )


def compact(spec: Spec | str) -> str:
    """The canonical spec with point lists written as the catalog groups they fill, for display:
    ``resnet18+se@blocks1,blocks2,blocks3,blocks4`` -> ``resnet18+se@blocks``. It canonicalizes back
    to the same key; points outside any whole group of two or more points stay named."""
    from suite.baselines import BASELINES

    spec = canonical(spec)
    groups = BASELINES.entry(spec.baseline).meta["catalog"].groups
    insertions = []
    for ins in spec.insertions:
        left, names = set(ins.points), []
        for group, members in sorted(groups.items(), key=lambda item: (-len(item[1]), item[0])):
            if len(members) > 1 and set(members) <= left:
                names.append(group)
                left -= set(members)
        insertions.append(replace(ins, points=(*names, *(p for p in ins.points if p in left))))
    return str(replace(spec, insertions=tuple(insertions)))


def key(spec: Spec | str) -> str:
    """The canonical string of a spec: the key results are stored under."""
    return str(canonical(spec))

