"""Curated variant sets: the grids a YAML file in ``variants/`` names, for ``suite run --grid``.

A set is a list of grids, each a ``suite run`` command written down::

    # variants/attention-unet.yaml
    grids:
      - variants: [unet+se, unet+cbam@skip, unet+eca]
        dataset: kvasir-seg
        folds: 5
        seeds: 3
        profile: full
        overrides: {epochs: 100}

Keys of a grid: those of ``GridRequest`` but ``device`` (a property of the machine, not of the set).
``suite demo`` is the set ``variants/demo.yaml``.
"""

from __future__ import annotations

import typing
from dataclasses import fields
from pathlib import Path

import yaml

from suite._resources import folder
from suite.errors import SuiteError, shown
from suite.grid import GridRequest

VARIANT_SET_DIR = folder("variants")
GRID_KEYS = tuple(f.name for f in fields(GridRequest) if f.name != "device")
GRID_TYPES = typing.get_type_hints(GridRequest)  # the type each key must have: GridRequest's annotations
_TYPE_WORDS = {int: "a whole number", str: "text", type(None): "null"}


def available() -> list[str]:
    """Names of the sets in ``variants/`` (file names without ``.yaml``)."""
    return sorted(path.stem for path in VARIANT_SET_DIR.glob("*.yaml"))


def resolve(name_or_path: str) -> Path:
    """A set's file: a path to a YAML file, or the name of one in ``variants/``."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return path
    named = VARIANT_SET_DIR / f"{name_or_path}.yaml"
    if named.is_file():
        return named
    raise SuiteError(
        f"no variant set {name_or_path!r}: not a YAML file and not in {VARIANT_SET_DIR}; "
        f"sets: {', '.join(available()) or 'none'}"
    )


def load(name_or_path: str) -> list[GridRequest]:
    """The grids of a set, checked: known keys, a non-empty ``variants`` list in each grid."""
    path = resolve(name_or_path)
    content = _read_yaml(path)
    grids = content.get("grids") if isinstance(content, dict) else None
    if not isinstance(grids, list) or not grids:
        raise SuiteError(f"variant set {path} needs a non-empty list under 'grids:' (see {VARIANT_SET_DIR / 'demo.yaml'})")
    return [_grid(path, number, entry) for number, entry in enumerate(grids, start=1)]


def _read_yaml(path: Path) -> object:
    """The YAML document of a set file; unreadable bytes, non-UTF-8 text and broken YAML are one line."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as err:
        raise SuiteError(f"cannot read the variant set {path} ({err.strerror or err}); check the path") from None
    except UnicodeDecodeError as err:
        raise SuiteError(
            f"variant set {path} is not UTF-8 text (byte 0x{err.object[err.start]:02x} at position {err.start}); "
            "save it as UTF-8"
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        line = getattr(getattr(err, "problem_mark", None), "line", None)
        where = f" at line {line + 1}" if line is not None else ""
        raise SuiteError(f"variant set {path} is not valid YAML{where}; fix the file") from None
    except RecursionError:
        raise SuiteError(f"variant set {path} nests too deeply to read; a set is a list of flat grids") from None


def _check_type(where: str, name: str, value: object) -> None:
    """``value`` has the type of GridRequest's field ``name`` (an int is not a bool here)."""
    allowed = tuple(typing.get_origin(t) or t for t in (typing.get_args(GRID_TYPES[name]) or (GRID_TYPES[name],)))
    if isinstance(value, bool) and bool not in allowed or not isinstance(value, allowed):
        wanted = " or ".join(_TYPE_WORDS.get(t, t.__name__) for t in allowed)
        raise SuiteError(f"{where}: {name!r} must be {wanted}, got {shown(value)}")


def _grid(path: Path, number: int, entry: object) -> GridRequest:
    where = f"variant set {path}, grid {number}"
    if not isinstance(entry, dict):
        raise SuiteError(f"{where} is not a mapping of keys ({', '.join(GRID_KEYS)})")
    unknown = sorted(set(entry) - set(GRID_KEYS))
    if unknown:
        raise SuiteError(f"{where} has unknown key {unknown[0]!r}; keys: {', '.join(GRID_KEYS)}")
    variants = entry.get("variants")
    if not isinstance(variants, list) or not variants or not all(isinstance(v, str) for v in variants):
        raise SuiteError(f"{where} needs 'variants:' as a list of spec strings, e.g. [unet+se, unet+cbam@skip]")
    overrides = entry.get("overrides", {})
    if not isinstance(overrides, dict) or not all(isinstance(k, str) for k in overrides):
        raise SuiteError(f"{where}: 'overrides:' must map recipe keys to values, e.g. {{epochs: 8}}")
    for name, value in entry.items():
        if name not in ("variants", "overrides"):
            _check_type(where, name, value)
    return GridRequest(**{**entry, "overrides": dict(overrides)})
