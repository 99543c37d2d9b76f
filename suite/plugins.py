"""Modules from outside suite: plugin files, the ``SUITE_PLUGINS`` variable and installed packages.

A plugin is a Python file that registers modules exactly as suite's own files do
(``@MODULES.register("my_attn", kind="attention", paper=..., arxiv=...)``, the kind's builder contract
in ``suite.kinds``). Three ways bring them in, all loaded when ``suite.modules`` is imported:

- ``--plugin PATH.py`` on any command (repeatable; the CLI puts the paths into ``SUITE_PLUGINS``, so
  processes it starts load them too);
- ``SUITE_PLUGINS``: plugin files separated by ``:`` (``os.pathsep``);
- the entry-point group ``suite.modules``: a pip-installed package names a module that registers its
  modules on import (``[project.entry-points."suite.modules"] my_attn = "my_package.attention"``).

Every entry records its ``Origin``. A plugin file is hashed (SHA-256 of the bytes that are executed)
and that hash goes into the key of every run whose spec uses one of its modules, so an edited plugin
is never mixed with results of the old one; built-in modules leave keys as they were. A file that
cannot be read or imported, registers nothing, registers a name already taken or breaks its kind's
builder contract is refused in one line naming the file, and none of its modules stay registered.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import inspect
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

from suite.errors import SuiteError
from suite.registry import MODULES

ENV = "SUITE_PLUGINS"
ENTRY_POINT_GROUP = "suite.modules"
OPTION = "--plugin"


@dataclass(frozen=True)
class Origin:
    """Where a module outside suite was registered: a plugin file or an installed package."""

    kind: str  # "plugin" | "package"
    where: str  # the plugin file's absolute path, or "distribution version"
    file: str  # the file that registered it
    sha256: str  # of that file's bytes as loaded

    @property
    def label(self) -> str:
        """``plugin my_attn.py`` or ``package my-attn 1.0``, for listings."""
        return f"plugin {Path(self.where).name}" if self.kind == "plugin" else f"package {self.where}"

    def provenance(self) -> dict:
        return {"origin": self.label, "file": self.file, "sha256": self.sha256}


_loaded_files: dict[Path, Origin] = {}
_loaded_packages: set[str] = set()


def origin_label(name: str) -> str:
    """Where module ``name`` comes from: ``built-in``, ``plugin FILE`` or ``package NAME VERSION``."""
    origin = MODULES.entry(name).origin
    return "built-in" if origin is None else origin.label


def fingerprints(spec: object) -> dict[str, str]:
    """Module name -> SHA-256 of its plugin file, for every module of ``spec`` (a canonical ``Spec``)
    that does not come with suite; empty for a spec of built-in modules only."""
    found = {}
    for insertion in spec.insertions:
        for leaf in insertion.leaves():
            origin = MODULES.entry(leaf.name).origin
            if origin is not None:
                found[leaf.name] = origin.sha256
    return dict(sorted(found.items()))


def provenance(spec: object) -> dict:
    """``{"plugins": {module: {origin, file, sha256}}}`` for the plugin modules of ``spec``, else ``{}``."""
    found = {}
    for insertion in spec.insertions:
        for leaf in insertion.leaves():
            origin = MODULES.entry(leaf.name).origin
            if origin is not None:
                found[leaf.name] = origin.provenance()
    return {"plugins": found} if found else {}


def hoist_options(argv: list[str]) -> list[str]:
    """Move every ``--plugin PATH`` (or ``--plugin=PATH``) to the front of ``argv``, where the CLI's
    global option reads it, so it may be written after the command too (``suite inspect X --plugin P``).
    Nothing after ``--`` moves."""
    front, rest = [], []
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            rest.extend(argv[index:])
            break
        if arg == OPTION and index + 1 < len(argv):
            front += [arg, argv[index + 1]]
            index += 2
            continue
        (front if arg.startswith(OPTION + "=") else rest).append(arg)
        index += 1
    return front + rest


def use(paths: list[str]) -> list[str]:
    """Load the plugin files ``paths`` now and, once they loaded, add them to ``SUITE_PLUGINS`` for the
    processes this one starts; returns the modules they register."""
    absolute = [str(Path(path).expanduser().absolute()) for path in paths]
    import suite.modules._library  # noqa: F401  (suite's own modules first: a plugin's name may not take theirs)

    names = [name for path in absolute for name in registered_by(path)]
    configured = [p for p in os.environ.get(ENV, "").split(os.pathsep) if p]
    os.environ[ENV] = os.pathsep.join(dict.fromkeys(absolute + configured))
    return names


def registered_by(path: str | Path) -> list[str]:
    """The modules plugin file ``path`` registered (loading it if it is not loaded yet)."""
    origin = load_file(path)
    return [entry.name for entry in MODULES.entries() if entry.origin == origin]


def load_configured() -> None:
    """Load the installed packages' entry points and the files of ``SUITE_PLUGINS`` (each once)."""
    load_entry_points()
    for path in os.environ.get(ENV, "").split(os.pathsep):
        if path.strip():
            load_file(path.strip())


def load_file(path: str | Path) -> Origin:
    """Import plugin file ``path`` once; its modules register with its ``Origin``."""
    shown = str(path)
    resolved = Path(path).expanduser().resolve()
    if resolved in _loaded_files:
        return _loaded_files[resolved]
    if resolved.suffix != ".py":
        raise SuiteError(f"plugin {shown}: not a Python file; pass a .py file that registers modules")
    try:
        source = resolved.read_bytes()
    except OSError as err:
        raise SuiteError(f"plugin {shown}: cannot read it ({err.strerror or err})") from None
    digest = hashlib.sha256(source).hexdigest()
    origin = Origin("plugin", str(resolved), str(resolved), digest)
    name = f"suite_plugin_{resolved.stem}_{digest[:12]}"
    module = importlib.util.module_from_spec(importlib.util.spec_from_file_location(name, resolved))
    sys.path.insert(0, str(resolved.parent))  # a plugin may import files next to it
    sys.modules[name] = module
    try:
        with MODULES.registering_from(origin) as added:
            _run(shown, resolved, source, module)
            _check_entries(f"plugin {shown}", added)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    finally:
        sys.path.remove(str(resolved.parent))
    _loaded_files[resolved] = origin
    return origin


def _run(shown: str, resolved: Path, source: bytes, module: object) -> None:
    try:
        exec(compile(source, str(resolved), "exec"), module.__dict__)
    except Exception as err:  # noqa: BLE001  (any error in the user's file is reported, not raised)
        raise _failure(f"plugin {shown}", err, resolved) from None


def _failure(who: str, err: BaseException, source: Path | None) -> SuiteError:
    """One line for what went wrong while a plugin file or package was imported."""
    if isinstance(err, SuiteError):
        return SuiteError(f"{who}: {err}")
    if isinstance(err, ValueError) and "already registered" in str(err):
        return SuiteError(f"{who}: {_duplicate(str(err))}")
    return SuiteError(f"{who} failed to import: {_reason(err, source)}")


def _duplicate(message: str) -> str:
    """``module 'se' is already registered`` with where the first one came from."""
    name = message.split("'")[1] if message.count("'") >= 2 else ""
    if name in MODULES:
        return f"{message} ({origin_label(name)}); give yours another name"
    return message


def _reason(err: BaseException, resolved: Path | None) -> str:
    """``NameError: name 'x' is not defined (line 7)``: the error and the plugin's line that raised it."""
    if isinstance(err, SyntaxError):
        text, line = err.msg or "", err.lineno
    else:
        text, line = (str(err).strip().splitlines() or [""])[0], None
    for frame in traceback.extract_tb(err.__traceback__):
        if Path(frame.filename) == resolved:
            line = frame.lineno
    where = f" (line {line})" if line else ""
    return f"{type(err).__name__}: {text}{where}" if text else f"{type(err).__name__}{where}"


def _check_entries(who: str, added: list[str]) -> None:
    """What a plugin (``who``: ``plugin FILE`` or ``package NAME VERSION``) registered keeps its kind's
    contract: a known kind, the point arguments first, every other argument with a default (the user
    sets it in a spec, or leaves it)."""
    from suite.kinds import KINDS

    if not added:
        raise SuiteError(
            f"{who} registers no module; decorate its builder with "
            '@MODULES.register("name", kind="attention") (from suite.registry import MODULES)'
        )
    for name in added:
        entry = MODULES.entry(name)
        kind = entry.meta.get("kind")
        if kind not in KINDS:
            raise SuiteError(
                f"{who}: module {name!r} has kind {kind!r}; give kind= one of {', '.join(KINDS)}"
            )
        leading = KINDS[kind].point_args
        parameters = list(inspect.signature(entry.obj).parameters.values())
        names = tuple(p.name for p in parameters[: len(leading)])
        required = [p.name for p in parameters[len(leading) :] if p.default is p.empty and p.kind is not p.VAR_KEYWORD]
        if names != leading or required:
            raise SuiteError(
                f"{who}: module {name!r} is {KINDS[kind].a_module}, whose builder is "
                f"{KINDS[kind].contract}; "
                f"its builder takes ({', '.join(p.name for p in parameters)})"
                + (f" and {', '.join(required)} has no default" if names == leading else "")
            )


def load_entry_points() -> None:
    """Import every module the installed packages name in the ``suite.modules`` entry-point group."""
    for point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if point.value in _loaded_packages:
            continue
        dist = point.dist
        label = f"{dist.name} {dist.version}" if dist is not None else point.value
        file = _module_file(point.module)
        digest = hashlib.sha256(Path(file).read_bytes()).hexdigest() if file else ""
        origin = Origin("package", label, file or point.value, digest)
        who = f"package {label} (entry point {point.name} = {point.value} in group {ENTRY_POINT_GROUP})"
        with MODULES.registering_from(origin) as added:
            try:
                point.load()
            except Exception as err:  # noqa: BLE001  (any error in the package is reported, not raised)
                raise _failure(who, err, Path(file) if file else None) from None
            _check_entries(who, added)
        _loaded_packages.add(point.value)


def _module_file(module: str) -> str | None:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    return spec.origin if spec is not None and spec.origin and Path(spec.origin).is_file() else None
