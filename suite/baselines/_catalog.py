"""The static description of a baseline's insertion points, known without building the network.

Names, groups, which module kinds each point accepts and the default points per kind are fixed per
baseline; channels and strides come from the built network (``model.insertion_points()``).
Specs are canonicalized against this catalog, so keys do not depend on image size or width.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

from suite.errors import SuiteError
from suite.kinds import KINDS
from suite.registry import natural_key


@dataclass(frozen=True)
class PointCatalog:
    """Point names -> accepted kinds; named groups of points; default points per module kind."""

    kinds: dict[str, tuple[str, ...]]
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)  # module kind -> point, group or glob

    @property
    def names(self) -> list[str]:
        return sorted(self.kinds, key=natural_key)

    def expand(self, tokens: tuple[str, ...] | list[str] | str) -> tuple[str, ...]:
        """Point names, group names and globs -> sorted unique point names."""
        tokens = [tokens] if isinstance(tokens, str) else list(tokens)
        found: set[str] = set()
        for token in tokens:
            if token in self.groups:
                found.update(self.groups[token])
            elif token in self.kinds:
                found.add(token)
            else:
                matched = fnmatch.filter(self.names, token)
                if not matched:
                    raise SuiteError(
                        f"unknown point {token!r}; points: {', '.join(self.names)}; "
                        f"groups: {', '.join(sorted(self.groups)) or 'none'}"
                    )
                found.update(matched)
        return tuple(sorted(found, key=natural_key))

    def points_of(self, kind: str) -> list[str]:
        """The points that take modules of ``kind``, in natural order."""
        return [p for p in self.names if kind in self.kinds[p]]

    def default_points(self, kind: str, baseline: str, module: str) -> str:
        if kind not in self.defaults:
            raise SuiteError(
                f"{baseline} has no default point for {kind} modules like {module!r}; "
                + self._where_instead(kind, baseline, module)
            )
        return self.defaults[kind]

    def check_kind(self, point: str, kind: str, module: str, baseline: str) -> None:
        if kind not in self.kinds[point]:
            raise SuiteError(
                f"{module!r} is {KINDS[kind].a_module} and cannot go at {baseline} point {point!r}, which takes "
                f"{', '.join(self.kinds[point])} modules; " + self._where_instead(kind, baseline, module)
            )

    def _where_instead(self, kind: str, baseline: str, module: str) -> str:
        """A spec that does take the module: at this baseline's points of its kind, or in another baseline."""
        fitting = self.points_of(kind)
        if fitting:
            return f"{kind} points: {', '.join(fitting)}, e.g. {baseline}+{module}@{fitting[0]}"
        from suite.registry import BASELINES

        others = {e.name: e.meta["catalog"] for e in BASELINES.entries() if e.meta["catalog"].points_of(kind)}
        if not others:
            return f"no {baseline} point takes {kind} modules, and no baseline has {kind} points"
        other, catalog = next(iter(others.items()))
        where = "" if kind in catalog.defaults else f"@{catalog.points_of(kind)[0]}"
        return (
            f"no {baseline} point takes {kind} modules; baselines with {kind} points: "
            f"{', '.join(others)}, e.g. {other}+{module}{where}"
        )
