"""Variant specs: parse ``unet+se(rd_ratio=0.25)@dec1,dec2:residual`` and canonicalize it.

Grammar (DESIGN.md)::

    spec      := baseline ( "+" insertion )*
    insertion := module [ "(" key=value ("," key=value)* ")" ] [ "@" points ] [ ":" mode ]
    points    := point ( "," point )*      point names, group names or globs (dec*)
    mode      := after | residual | replace      (suite.kinds: which modes each module kind takes)

``parse`` is purely syntactic (lowercased, kwargs sorted). ``canonical`` resolves a parsed spec against
the registries: points expanded and sorted, kwargs equal to the module's defaults dropped, the default
mode of the module's kind dropped. ``str(canonical(s))`` is the key of every result.
Values are Python literals (int, float, bool, quoted string) or bare words (taken as strings);
nothing is evaluated.
"""

from __future__ import annotations

import ast
import math
import re
import warnings
from dataclasses import dataclass, replace

from suite.errors import SuiteError, shown
from suite.kinds import KIND_MODES, KINDS, MODES  # noqa: F401  (KIND_MODES: re-exported for callers)

# Insertions one spec may have: far above any ablation, far below what exhausts memory while counting FLOPs.
MAX_INSERTIONS = 16

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_POINT = re.compile(r"[A-Za-z0-9_\-*?\[\]]+")
_BARE_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_\-.]*")


@dataclass(frozen=True)
class Insertion:
    """One module placed at some points of the baseline, in one mode."""

    module: str
    kwargs: tuple[tuple[str, object], ...] = ()
    points: tuple[str, ...] = ()  # empty: the baseline's default points for the module's kind
    mode: str | None = None  # None: the default mode of the module's kind

    def __str__(self) -> str:
        text = self.module
        if self.kwargs:
            text += "(" + ",".join(f"{k}={_format_value(v)}" for k, v in self.kwargs) + ")"
        if self.points:
            text += "@" + ",".join(self.points)
        if self.mode:
            text += ":" + self.mode
        return text


@dataclass(frozen=True)
class Spec:
    """A baseline and the insertions stitched into it, in order."""

    baseline: str
    insertions: tuple[Insertion, ...] = ()

    def __str__(self) -> str:
        return "+".join([self.baseline, *map(str, self.insertions)])

    @property
    def is_baseline(self) -> bool:
        return not self.insertions

    @property
    def modules(self) -> tuple[str, ...]:
        return tuple(ins.module for ins in self.insertions)


def _format_value(value: object) -> str:
    if isinstance(value, str):
        return value if _BARE_WORD.fullmatch(value) and value not in ("True", "False") else repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


class _Parser:
    """Recursive-descent parser over one spec string; errors point at the offending character."""

    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def fail(self, what: str) -> SuiteError:
        found = repr(self.text[self.pos]) if self.pos < len(self.text) else "end of spec"
        pointer = f"{shown(self.text)} at character {self.pos + 1}"
        return SuiteError(
            f"bad variant spec {pointer}: expected {what}, found {found}; "
            "form: baseline+module(key=value)@point,point:mode, e.g. unet+se@decoder"
        )

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def take(self, char: str) -> bool:
        if self.peek() == char:
            self.pos += 1
            return True
        return False

    def match(self, pattern: re.Pattern, what: str) -> str:
        found = pattern.match(self.text, self.pos)
        if not found:
            raise self.fail(what)
        self.pos = found.end()
        return found.group(0)

    def spec(self) -> Spec:
        baseline = self.match(_NAME, "a baseline name").lower()
        insertions = []
        while self.take("+"):
            if len(insertions) == MAX_INSERTIONS:
                raise SuiteError(
                    f"variant spec {baseline}+... has more than {MAX_INSERTIONS} insertions; stitch at most "
                    f"{MAX_INSERTIONS} (one insertion can name many points, e.g. {baseline}+se@point1,point2)"
                )
            insertions.append(self.insertion())
        if self.pos != len(self.text):
            raise self.fail("'+', '(', '@' or ':'")
        return Spec(baseline, tuple(insertions))

    def insertion(self) -> Insertion:
        module = self.match(_NAME, "a module name").lower()
        kwargs: dict[str, object] = {}
        if self.take("("):
            while True:
                key = self.match(_NAME, "a keyword argument name").lower()
                if key in kwargs:
                    raise self.fail(f"each keyword once ({key!r} repeats)")
                if not self.take("="):
                    raise self.fail("'=' after the keyword")
                kwargs[key] = self.value()
                if self.take(")"):
                    break
                if not self.take(","):
                    raise self.fail("',' or ')'")
        points: list[str] = []
        if self.take("@"):
            points.append(self.match(_POINT, "a point, group or glob").lower())
            while self.take(","):
                points.append(self.match(_POINT, "a point, group or glob").lower())
        mode = None
        if self.take(":"):
            start = self.pos
            mode = self.match(_NAME, f"a mode ({' | '.join(MODES)})").lower()
            if mode not in MODES:
                self.pos = start
                raise self.fail(f"a mode ({' | '.join(MODES)})")
        return Insertion(module, tuple(sorted(kwargs.items())), tuple(points), mode)

    def value(self) -> object:
        start = self.pos
        depth_chars = {"'", '"'}
        if self.peek() in depth_chars:
            quote = self.peek()
            end = self.text.find(quote, self.pos + 1)
            if end < 0:
                raise self.fail("a closing quote")
            self.pos = end + 1
        else:
            while self.peek() and self.peek() not in ",)":
                self.pos += 1
        raw = self.text[start : self.pos].strip()
        if not raw:
            self.pos = start
            raise self.fail("a value")
        if raw in ("true", "false"):
            return raw == "true"
        try:
            with warnings.catch_warnings():  # an odd escape in a quoted value ('\T') is the user's text, not ours
                warnings.simplefilter("ignore")
                value = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            if _BARE_WORD.fullmatch(raw):
                return raw
            self.pos = start
            raise self.fail("a literal value (number, true/false, or a word)") from None
        if isinstance(value, float) and not math.isfinite(value):
            self.pos = start
            raise self.fail("a finite number")
        if isinstance(value, bool) or type(value) in (int, float, str):
            return value
        self.pos = start
        raise self.fail("a number, true/false or a string (no containers or expressions)")


def parse(text: str) -> Spec:
    """Parse a spec string (syntax only: names are not checked against the registries)."""
    return _Parser(text.strip()).spec()


def canonical(spec: Spec | str) -> Spec:
    """Resolve against the registries: expand and sort points, drop default kwargs and mode.

    Raises ``SuiteError`` naming the valid choices for an unknown baseline, module, point or mode,
    and for a module kind the baseline has no point for.
    """
    from suite.baselines import BASELINES
    from suite.modules import MODULES, module_defaults

    spec = parse(spec) if isinstance(spec, str) else spec
    base = BASELINES.entry(spec.baseline)
    catalog = base.meta["catalog"]
    insertions: list[Insertion] = []
    for ins in spec.insertions:
        entry = MODULES.entry(ins.module)
        kind = entry.meta["kind"]
        defaults = module_defaults(ins.module)
        unknown = [k for k, _ in ins.kwargs if k not in defaults]
        if unknown:
            raise SuiteError(
                f"module {ins.module!r} has no argument {unknown[0]!r}; "
                f"its arguments: {', '.join(f'{k}={_format_value(v)}' for k, v in defaults.items()) or 'none'}"
            )
        kwargs = tuple((k, v) for k, v in ins.kwargs if defaults[k] != v or type(defaults[k]) is not type(v))
        points = catalog.expand(ins.points or catalog.default_points(kind, spec.baseline, ins.module))
        for point in points:
            catalog.check_kind(point, kind, ins.module, spec.baseline)
        modes = KINDS[kind].modes
        mode = ins.mode or modes[0]
        if mode not in modes:
            raise SuiteError(
                f"{ins.module} is a {kind} module and cannot go in mode {mode!r}; "
                f"{kind} modules support: {', '.join(modes)}"
            )
        insertions.append(replace(ins, kwargs=kwargs, points=points, mode=None if mode == modes[0] else mode))
        _check_once_per_point(spec.baseline, insertions)
    return Spec(spec.baseline, tuple(insertions))


def _check_once_per_point(baseline: str, insertions: list[Insertion]) -> None:
    """A module goes at most once at a point: the last insertion may not repeat an earlier one's
    module at a point they share (different modules at one point stack in spec order)."""
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
    return str(Spec(spec.baseline, tuple(insertions)))


def key(spec: Spec | str) -> str:
    """The canonical string of a spec: the key results are stored under."""
    return str(canonical(spec))
