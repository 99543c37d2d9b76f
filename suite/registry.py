"""One ``Registry`` class for every kind of plug-in: modules, baselines, datasets.

Entries register with a decorator where they are defined; a duplicate name raises, an unknown name
raises with the valid names, and ``list(pattern)`` filters with shell wildcards and sorts naturally
(``stage2`` before ``stage10``). Each entry records where it came from (``origin``: None for suite's
own; ``suite.plugins`` registers a plugin file's or package's entries inside ``registering_from``).
"""

from __future__ import annotations

import fnmatch
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from suite.errors import SuiteError


def natural_key(name: str) -> list:
    """Sort key that orders embedded numbers numerically: enc2 < enc10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


@dataclass(frozen=True)
class Entry:
    """A registered object and the metadata given at registration (kind, paper, ...)."""

    name: str
    obj: Any
    meta: dict = field(default_factory=dict)
    origin: Any = None  # None: registered by suite itself; else where from (suite.plugins.Origin)

    def __getattr__(self, key: str) -> Any:
        try:
            return self.meta[key]
        except KeyError:
            raise AttributeError(key) from None


class Registry:
    """Name -> entry map for one kind of plug-in (``kind`` names it in error messages)."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Entry] = {}
        self._origin: Any = None
        self._added: list[str] | None = None

    def register(self, name: str | None = None, **meta: Any) -> Callable:
        """Decorator: ``@MODULES.register("se", kind="attention", ...)``; the name is lowercased."""

        def decorate(obj: Any) -> Any:
            key = (name or obj.__name__).lower()
            if key in self._entries:
                raise ValueError(f"{self.kind} {key!r} is already registered")
            self._entries[key] = Entry(key, obj, dict(meta), self._origin)
            if self._added is not None:
                self._added.append(key)
            return obj

        return decorate

    @contextmanager
    def registering_from(self, origin: Any) -> Iterator[list[str]]:
        """Entries registered inside the block record ``origin``; yields the list of their names, which
        fills as they register. If the block raises, they are removed again: nothing half-registered."""
        self._origin, self._added = origin, []
        added = self._added
        try:
            yield added
        except BaseException:
            self.unregister(added)
            raise
        finally:
            self._origin, self._added = None, None

    def unregister(self, names: list[str]) -> None:
        for key in names:
            self._entries.pop(key, None)

    def entry(self, name: str) -> Entry:
        key = name.lower()
        if key not in self._entries:
            raise SuiteError(
                f"unknown {self.kind} {name!r}; valid {self.kind}s: {', '.join(self.list())}"
            )
        return self._entries[key]

    def get(self, name: str) -> Any:
        """The registered object (a builder function or class)."""
        return self.entry(name).obj

    def list(self, pattern: str = "*") -> list[str]:
        names = [n for n in self._entries if fnmatch.fnmatchcase(n, pattern.lower())]
        return sorted(names, key=natural_key)

    def entries(self, pattern: str = "*") -> list[Entry]:
        return [self._entries[n] for n in self.list(pattern)]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.list())

    def __len__(self) -> int:
        return len(self._entries)


MODULES = Registry("module")
BASELINES = Registry("baseline")
DATASETS = Registry("dataset")
