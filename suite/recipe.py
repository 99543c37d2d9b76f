"""Training recipes: one typed config with commented defaults and units, read from ``baselines/*.yaml``.

A recipe file names the baselines it serves and, per task, the ``quick`` profile (minutes on a laptop
CPU, for trying things), the ``full`` profile (GPU, the settings a paper would report) and, for
baselines with pretrained weights, the ``finetune`` profile (from those weights, at a lower rate)::

    baselines: [resnet18, resnet34]
    cls:
      quick: {epochs: 4, lr: 0.002, model: {width: 16}}
      full:  {epochs: 200, optimizer: sgd, lr: 0.1}

Values not given keep the ``Recipe`` defaults below. The resolved recipe (``Recipe.to_dict()``) is
stored with every result and its ``hash`` is part of the run key. Keys added after results were stored
are left out while they sit at their default (``OMITTED_AT_DEFAULT``), so older run keys hold.

Pretrained weights (``model.pretrained``: a file, or ``true`` for the library's cached ones) are keyed
by content: resolving the recipe pins the file's SHA-256 in ``pretrained_sha256``, which the hash takes
in place of the path, and a run checks the file against it before training (``verify_weights``).
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from suite._resources import folder
from suite.errors import SuiteError, shown
from suite.records import stable_hash

PROFILES = ("quick", "full", "finetune")
OPTIMIZERS = ("adamw", "sgd")
NORMALIZATIONS = ("fold", "imagenet", "none")  # see Recipe.normalization
SCHEDULES = ("cosine",)
LOSSES = {"cls": ("ce",), "seg": ("dice_bce",)}
RECIPE_DIR = folder("baselines")
# Keys ``Recipe.to_dict`` leaves out at these values (their defaults), so recipes made before the key
# existed keep their hash.
OMITTED_AT_DEFAULT = {
    "train_fraction": 1.0,
    "module_lr_mult": 1.0,
    "module_warmup_epochs": 0.0,
    "pretrained_sha256": None,
}


@dataclass
class Recipe:
    """How one baseline is trained on one task; every variant of the baseline shares it."""

    epochs: int = 10  # passes over the training folds; the last epoch's validation is reported
    batch_size: int = 32  # training images per optimizer step
    eval_batch_size: int = 64  # images per forward pass when evaluating
    optimizer: str = "adamw"  # "adamw" | "sgd" (SGD with Nesterov momentum), via timm.optim
    lr: float = 1e-3  # peak learning rate, reached at the end of warm-up
    weight_decay: float = 0.05  # decoupled (AdamW) or L2 (SGD); not applied to biases and norm weights
    momentum: float = 0.9  # SGD momentum; unused by AdamW
    warmup_epochs: float = 0.0  # linear warm-up from lr/warmup_steps to lr, in epochs (fractions allowed)
    schedule: str = "cosine"  # after warm-up: cosine decay to 0, stepped every optimizer step
    label_smoothing: float = 0.0  # cross-entropy label smoothing (classification only), 0-1
    loss: str = "ce"  # "ce" (classification) | "dice_bce" (segmentation: soft Dice + BCE)
    image_size: int = 32  # side of the square network input, in pixels
    amp: bool = False  # bfloat16 autocast; applies on CUDA only, CPU always trains in float32
    channels_last: bool = False  # NHWC memory format for model and inputs; CUDA only
    compile: bool = False  # torch.compile the model; CUDA only
    augment: bool = True  # random flips/crops on training batches (drawn from the augment seed)
    # Input normalization: "fold" = per-channel mean/std of the fold's own training images (never its
    # validation images or the test split); "imagenet" = ImageNet's fixed constants (for pretrained
    # backbones); "none" = pixels scaled to [0, 1].
    normalization: str = "fold"
    grad_clip: float | None = None  # max global L2 norm of the gradients; None: no clipping
    # The inserted modules' learning rate relative to the backbone's (peak lr x this), e.g. 10 when they
    # start from scratch inside a pretrained network. The baseline has no inserted modules.
    module_lr_mult: float = 1.0
    # A linear warm-up of the inserted modules' learning rate alone, in epochs, on top of warmup_epochs
    # and the cosine decay; 0: none.
    module_warmup_epochs: float = 0.0
    # SHA-256 of the model.pretrained weights file, set when the recipe is resolved (never by hand).
    pretrained_sha256: str | None = None
    deterministic: bool = True  # torch.use_deterministic_algorithms + cuDNN deterministic
    model: dict = field(default_factory=dict)  # baseline builder kwargs, e.g. {"width": 16}
    # Share of each fold's training part trained on, in (0, 1]: a nested subset, stratified by class, drawn
    # from the split seed (suite.datasets.subsets); the validation fold is never touched. Small-data trials.
    train_fraction: float = 1.0

    def to_dict(self) -> dict:
        """The recipe as plain data; the keys of ``OMITTED_AT_DEFAULT`` only when set (``train_fraction``
        below 1, a module learning rate, pinned weights), so the recipes (and run keys) of runs that do not
        use them are those of stores made before they existed."""
        values = dataclasses.asdict(self)
        for name, default in OMITTED_AT_DEFAULT.items():
            if values[name] == default:
                del values[name]
        return values

    def hashed(self) -> dict:
        """What the hash covers: ``to_dict()``, where pinned weights' SHA-256 stands for ``model.pretrained``
        (a path, or true)."""
        values = self.to_dict()
        if self.pretrained_sha256 is not None:
            values["model"] = {k: v for k, v in self.model.items() if k != "pretrained"}
        return values

    @property
    def hash(self) -> str:
        return stable_hash(self.hashed())

    @classmethod
    def from_dict(cls, values: dict) -> "Recipe":
        """A recipe from ``to_dict()`` output (e.g. ``job.recipe``), type-checked."""
        recipe = cls()
        for name, value in values.items():
            _set_field(recipe, name, value)
        return recipe


FIELDS = {f.name: f for f in dataclasses.fields(Recipe)}
DERIVED = ("pretrained_sha256",)  # set while resolving a recipe, never given


@dataclass(frozen=True)
class Range:
    """The finite numbers a recipe key accepts: from ``low`` to ``high``, each end in or out."""

    low: float
    high: float
    low_open: bool = False
    high_open: bool = False

    def __contains__(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return not (isinstance(value, float) and not math.isfinite(value)) and above and below

    def __str__(self) -> str:
        return f"{'(' if self.low_open else '['}{self.low:g}, {self.high:g}{')' if self.high_open else ']'}"


# Every number key and what it accepts (warmup_epochs is also at most epochs); None passes where allowed.
RANGES = {
    "epochs": Range(1, 100_000),
    "batch_size": Range(1, 2**20),
    "eval_batch_size": Range(1, 2**20),
    "lr": Range(0, 10, low_open=True),
    "weight_decay": Range(0, 1),
    "momentum": Range(0, 1, high_open=True),
    "warmup_epochs": Range(0, 100_000),
    "label_smoothing": Range(0, 1, high_open=True),
    "image_size": Range(1, 16_384),
    "grad_clip": Range(0, math.inf, low_open=True, high_open=True),
    "train_fraction": Range(0, 1, low_open=True),
    "module_lr_mult": Range(0, 1000, low_open=True),
    "module_warmup_epochs": Range(0, 100_000),
}


def _type_names(field_type: str) -> tuple[type, ...]:
    """The Python types a field annotation (a string under ``from __future__ import annotations``) allows."""
    names = {"int": int, "float": float, "bool": bool, "str": str, "dict": dict, "None": type(None)}
    return tuple(names[part.strip()] for part in field_type.split("|"))


def parse_text(text: str) -> Any:
    """A command-line value as YAML (``true``, ``8``, ``[64, 32]``, ``null``), plus floats like ``3e-4``;
    text that is no YAML value stays text (and a key that wants a number then says so)."""
    try:
        value = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError, RecursionError):  # ValueError: an integer of more than 4300 digits
        return text
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _coerce(name: str, value: Any, allowed: tuple[type, ...]) -> Any:
    """Check ``value`` against the field's types; strings from the command line are parsed first."""
    if isinstance(value, str) and str not in allowed:
        value = parse_text(value)
    if isinstance(value, bool) and bool not in allowed:
        ok = False
    elif isinstance(value, int) and not isinstance(value, bool) and float in allowed and int not in allowed:
        value, ok = float(value), True
    else:
        ok = isinstance(value, allowed)
    if not ok:
        wanted = " or ".join("null" if t is type(None) else t.__name__ for t in allowed)
        raise SuiteError(f"recipe key {name!r} must be {wanted}, got {shown(value)}")
    return value


def _set_field(recipe: Recipe, name: str, value: Any) -> None:
    if name not in FIELDS:
        raise SuiteError(f"unknown recipe key {shown(name)}; valid keys: {', '.join(FIELDS)}, model.<kwarg>")
    value = _coerce(name, value, _type_names(FIELDS[name].type))
    if name == "model":
        value = dict(value)
    setattr(recipe, name, value)


def _model_kwargs(baseline: str) -> tuple[str, ...] | None:
    """The builder kwargs a baseline accepts, or None when it accepts any (``**kwargs``) or is not registered."""
    from suite.baselines import BASELINES, DATA_ARGS

    if baseline not in BASELINES:
        return None
    parameters = inspect.signature(BASELINES.get(baseline)).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return None
    return tuple(p.name for p in parameters if p.name not in DATA_ARGS)


def _apply_override(recipe: Recipe, baseline: str, dotted: str, value: Any) -> None:
    name, _, model_key = dotted.partition(".")
    if name != "model" or not model_key:
        _set_field(recipe, dotted, value)
        return
    valid = _model_kwargs(baseline)
    if valid is not None and model_key not in valid:
        raise SuiteError(
            f"unknown model key {shown(dotted)} for {baseline}; valid: {', '.join(f'model.{k}' for k in valid)}"
        )
    recipe.model[model_key] = parse_text(value) if isinstance(value, str) else value


def _validate(recipe: Recipe, task: str) -> None:
    checks = {"optimizer": OPTIMIZERS, "schedule": SCHEDULES, "loss": LOSSES[task], "normalization": NORMALIZATIONS}
    for name, choices in checks.items():
        if getattr(recipe, name) not in choices:
            raise SuiteError(
                f"recipe {name} {shown(getattr(recipe, name))} is not valid for {task}; choose: {', '.join(choices)}"
            )
    for name, valid in RANGES.items():
        value = getattr(recipe, name)
        if value is not None and value not in valid:
            raise SuiteError(
                f"recipe {name} must be a finite number in {valid}, got {value}; set another with --set {name}=VALUE"
            )
    for name in ("warmup_epochs", "module_warmup_epochs"):
        if getattr(recipe, name) > recipe.epochs:
            raise SuiteError(
                f"recipe {name} {getattr(recipe, name)} is longer than the {recipe.epochs} epochs of training; "
                f"set --set {name}=... to at most {recipe.epochs}"
            )


def _pin_weights(recipe: Recipe, baseline: str) -> None:
    """A ``model.pretrained`` file (or the library's cached one, for true) must exist; its SHA-256 goes
    into the recipe and a path is made absolute, so workers elsewhere read the same file."""
    from suite.baselines._weights_file import file_sha256, weights_file

    path = weights_file(baseline, recipe.model.get("pretrained"))
    if path is not None:
        if isinstance(recipe.model["pretrained"], str):
            recipe.model["pretrained"] = str(path)
        recipe.pretrained_sha256 = file_sha256(path)


def verify_weights(recipe: Recipe, baseline: str) -> None:
    """Before a run trains: the weights file still has the SHA-256 its recipe was resolved with."""
    from suite.baselines._weights_file import file_sha256, weights_file

    if recipe.pretrained_sha256 is None:
        return
    path = weights_file(baseline, recipe.model.get("pretrained"))
    found = file_sha256(path)
    if found != recipe.pretrained_sha256:
        raise SuiteError(
            f"the weights file {str(path)!r} changed since the run was planned (SHA-256 {found[:16]}, the "
            f"recipe's {recipe.pretrained_sha256[:16]}); restore the file or plan the run again"
        )


@cache
def recipe_files() -> dict[str, Path]:
    """Baseline name -> the YAML file holding its recipes."""
    found: dict[str, Path] = {}
    for path in sorted(RECIPE_DIR.glob("*.yaml")):
        for name in yaml.safe_load(path.read_text()).get("baselines", []):
            if name in found:
                raise SuiteError(
                    f"baseline {name!r} has recipes in both {found[name].name} and {path.name}; keep one"
                )
            found[name] = path
    return found


@cache
def _read(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def load_recipe(baseline: str, task: str, profile: str = "quick", overrides: dict | None = None) -> Recipe:
    """The recipe for ``baseline`` on ``task`` under ``profile``, with ``overrides`` applied.

    ``overrides`` maps recipe keys (or ``model.<kwarg>``) to values; strings are parsed as YAML, so
    ``{"lr": "3e-4"}`` from a command line works. Unknown keys, profiles and ill-typed values raise
    ``SuiteError`` naming the valid choices.
    """
    baseline = baseline.lower()
    files = recipe_files()
    if baseline not in files:
        raise SuiteError(
            f"no recipe for baseline {baseline!r} in {RECIPE_DIR}; recipes exist for: {', '.join(sorted(files))}"
        )
    if profile not in PROFILES:
        raise SuiteError(f"unknown recipe profile {profile!r}; profiles: {', '.join(PROFILES)}")
    content = _read(files[baseline])
    tasks = [t for t in LOSSES if t in content]
    if task not in tasks:
        raise SuiteError(f"{baseline} has no recipe for task {task!r}; its tasks: {', '.join(tasks)}")
    if profile not in content[task]:
        having = [name for name, path in files.items() if profile in _read(path).get(task, {})]
        raise SuiteError(
            f"{baseline} has no {profile!r} profile for {task} (its profiles: {', '.join(content[task])}); "
            + (f"baselines with one: {', '.join(sorted(having))}" if having else f"add one to {files[baseline].name}")
        )
    recipe = Recipe(loss=LOSSES[task][0])
    settings = dict(content[task][profile])
    for name, value in settings.pop("model", {}).items():
        _apply_override(recipe, baseline, f"model.{name}", value)
    for name, value in settings.items():
        _set_field(recipe, name, value)
    for dotted, value in (overrides or {}).items():
        _apply_override(recipe, baseline, dotted, value)
    given = [name for name in DERIVED if name in settings or name in (overrides or {})]
    if given:
        raise SuiteError(f"recipe key {given[0]!r} is set from model.pretrained's file; set --set model.pretrained=PATH")
    _validate(recipe, task)
    _pin_weights(recipe, baseline)
    return recipe
