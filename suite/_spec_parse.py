"""The recursive-descent parser of variant specs (syntax only; ``suite.spec.canonical`` resolves names).

Grammar (README, "Variant specs")::

    spec      := baseline [ "(" key=value ("," key=value)* ")" ] ( "+" insertion )*
    insertion := unit [ "@" points ] [ ":" mode ]
    unit      := module [ "(" key=value ("," key=value)* ")" ]
               | "(" unit ( ">" unit )+ ")"                       serial
               | "(" unit ( "|" unit )+ ")" [ ":" fusion ]        parallel
    points    := point ( "," point )*
    value     := scalar | "(" scalar ("," scalar)* [","] ")"     a flat tuple, e.g. per-stage widths
    scalar    := number | true | false | word | quoted string

Names are lowercased, keyword arguments sorted. Values are Python literals (int, float, bool, quoted
string), bare words (taken as strings) or flat tuples of them (no nesting); nothing is evaluated.
Every error is one ``SuiteError`` that points at the offending character.
"""

from __future__ import annotations

import ast
import math
import re
import warnings

from suite._spec_nodes import _BARE_WORD, SEPARATORS, Composite, Insertion, Module, Spec, Unit
from suite.errors import SuiteError, shown
from suite.kinds import FUSIONS, MAX_MEMBERS, MAX_NESTING, MODES

# Insertions one spec may have: far above any ablation, far below what exhausts memory while counting FLOPs.
MAX_INSERTIONS = 16
# Values in one tuple argument (per-stage or per-block widths): far above any network's stage count.
MAX_TUPLE = 16

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_POINT = re.compile(r"[A-Za-z0-9_\-*?\[\]]+")
_OPS = {char: op for op, char in SEPARATORS.items()}


class Parser:
    """Parses one spec string; ``spec()`` returns the ``Spec`` or raises ``SuiteError``."""

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
        baseline_kwargs = self.kwargs() if self.take("(") else ()
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
        return Spec(baseline, tuple(insertions), baseline_kwargs)

    def insertion(self) -> Insertion:
        start = self.pos
        unit = self.unit(depth=0)
        if isinstance(unit, Composite) and len(unit.leaves()) > MAX_MEMBERS:
            self.pos = start
            raise self.fail(f"a composite of at most {MAX_MEMBERS} modules ({len(unit.leaves())} given)")
        points: list[str] = []
        if self.take("@"):
            points.append(self.match(_POINT, "a point, group or glob").lower())
            while self.take(","):
                points.append(self.match(_POINT, "a point, group or glob").lower())
        mode = None
        if self.take(":"):
            start = self.pos
            expected = f"a mode ({' | '.join(MODES)})"
            if isinstance(unit, Composite) and unit.op == "parallel" and not unit.fusion and not points:
                expected = f"a fusion ({' | '.join(FUSIONS)}) or {expected}"
            mode = self.match(_NAME, expected).lower()
            if mode in FUSIONS:
                self.pos = start
                raise self.fail(f"{expected}; a fusion goes right after a parallel composite, e.g. (se|sa):{mode}")
            if mode not in MODES:
                self.pos = start
                raise self.fail(expected)
        return Insertion.of(unit, tuple(points), mode)

    def unit(self, depth: int) -> Unit:
        if not self.take("("):
            name = self.match(_NAME, "a module name or '(' opening a composite").lower()
            return Module(name, self.kwargs() if self.take("(") else ())
        if depth == MAX_NESTING:
            self.pos -= 1
            raise self.fail(f"a module name: composites nest at most {MAX_NESTING} levels deep")
        members = [self.unit(depth + 1)]
        separator = self.peek()
        if separator not in _OPS:
            raise self.fail("'>' (serial) or '|' (parallel) between the members of a composite")
        while self.take(separator):
            members.append(self.unit(depth + 1))
        if self.peek() in _OPS:
            raise self.fail(f"{separator!r} or ')': one kind of composite per level, e.g. (se>(sa|eca))")
        if not self.take(")"):
            raise self.fail(f"{separator!r} or ')'")
        op = _OPS[separator]
        return Composite(op, tuple(members), self.fusion() if op == "parallel" else None)

    def fusion(self) -> str | None:
        """``:sum`` after a parallel group; a ``:`` followed by anything else is left for the mode."""
        found = _NAME.match(self.text, self.pos + 1) if self.peek() == ":" else None
        if not found or found.group(0).lower() not in FUSIONS:
            return None
        self.pos = found.end()
        return found.group(0).lower()

    def kwargs(self) -> tuple[tuple[str, object], ...]:
        """``key=value, ...)`` after an opening parenthesis, sorted by key."""
        kwargs: dict[str, object] = {}
        while True:
            key = self.match(_NAME, "a keyword argument name").lower()
            if key in kwargs:
                raise self.fail(f"each keyword once ({key!r} repeats)")
            if not self.take("="):
                raise self.fail("'=' after the keyword")
            kwargs[key] = self.value()
            if self.take(")"):
                return tuple(sorted(kwargs.items()))
            if not self.take(","):
                raise self.fail("',' or ')'")

    def value(self) -> object:
        """A scalar, or a flat tuple of scalars such as per-stage widths ``(16,32,64)``."""
        if not self.take("("):
            return self.scalar()
        items = [self.scalar()]
        while self.take(","):
            if self.peek() == ")":  # a trailing comma: (16,)
                break
            if len(items) == MAX_TUPLE:
                raise self.fail(f"')': a tuple holds at most {MAX_TUPLE} values")
            items.append(self.scalar())
        if not self.take(")"):
            raise self.fail("',' or ')' closing the tuple")
        return tuple(items)

    def scalar(self) -> object:
        start = self.pos
        if self.peek() in ("'", '"'):
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
        raise self.fail("a number, true/false, a string or a flat tuple of them, e.g. (16,32) (no expressions)")
