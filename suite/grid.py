"""Plan the grid of a fair comparison: the baselines the variants imply plus each variant, x folds x seeds.

Every cell of a (dataset, fold, seed) shares its manifest, its seeds and its recipe between the baseline
and the variants, so one variable changes: the module. Jobs whose key is already in the store are
skipped by the runner, so baselines are shared by every variant and a finished grid trains nothing.
``resolve`` checks a request before any data is read or the store is opened, down to building every
spec at the recipe's size on the meta device and estimating the memory its runs need.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from suite._pairing import MIN_FOLDS
from suite.errors import SuiteError, shown
from suite.records import Job, Seeds
from suite.spec import canonical, parse

STANDARD_DATASET = {"cls": "cifar10", "seg": "kvasir-seg"}


@dataclass
class GridRequest:
    """What the user asked for on the command line."""

    variants: list[str]
    dataset: str | None = None
    data_root: str | None = None
    folds: int = 5
    seeds: int = 1
    split_seed: int = 0
    profile: str = "quick"
    overrides: dict = field(default_factory=dict)
    device: str = "cpu"
    control: str | None = None  # "capacity": add each variant's capacity-matched baseline (suite.capacity)
    match: str = "params"  # what the capacity control matches: "params" or "gmacs"


@dataclass
class Grid:
    """The planned jobs of one dataset and the context they were planned in."""

    dataset: str
    task: str
    specs: list[str]  # canonical specs, baselines first
    baselines: list[str]
    jobs: list[Job]
    data: object  # the LoadedDataset every job of the grid trains on
    manifest: object
    controls: list = field(default_factory=list)  # a CapacityMatch per variant with --control capacity
    variants: list[str] = field(default_factory=list)  # the variants asked for, canonical

    @property
    def claims(self) -> list[str]:
        """The specs with a verdict of their own: the variants asked for, in the grid's order; not the
        baselines, nor a capacity control (a control shows beside the variant it controls)."""
        return [spec for spec in self.specs if spec in self.variants and spec not in self.baselines]

    def control_records(self) -> list[dict]:
        """The capacity controls as a study records them: each match with its dataset and the recipe
        hash of its variant (``suite.store.read_controls`` reads them back)."""
        recipes = {job.spec: job.recipe_hash for job in self.jobs}
        return [{**match.to_dict(), "dataset": self.dataset, "recipe_hash": recipes[match.variant]} for match in self.controls]


def check_request(request: GridRequest) -> None:
    if not request.variants:
        raise SuiteError("no variant given; pass --variant SPEC, e.g. --variant unet+se")
    if request.folds < MIN_FOLDS:
        raise SuiteError(
            f"--folds {request.folds} gives too few paired folds for a verdict (it needs {MIN_FOLDS}), "
            f"so the grid would train for nothing; use --folds {MIN_FOLDS} or more (5 is usual)"
        )
    if request.seeds < 1:
        raise SuiteError(f"--seeds {request.seeds} is not a number of repeats; use --seeds 1 or more")
    if request.control not in (None, "capacity"):
        raise SuiteError(f"unknown --control {shown(request.control)}; the control suite builds is: capacity")
    if request.match not in ("params", "gmacs"):
        raise SuiteError(f"unknown --match {shown(request.match)}; a capacity control matches params or gmacs")
    if request.match != "params" and request.control is None:
        raise SuiteError("--match applies to a capacity control; add --control capacity")


def _task_of(baselines: list[str]) -> str:
    from suite.baselines import BASELINES

    tasks = {b: BASELINES.entry(b).meta["tasks"] for b in baselines}
    common = set.intersection(*(set(t) for t in tasks.values()))
    if not common:
        raise SuiteError(
            "these baselines have no task in common: "
            + "; ".join(f"{b} ({', '.join(t)})" for b, t in tasks.items())
            + "; run classification and segmentation variants separately"
        )
    return sorted(common)[0] if len(common) > 1 else common.pop()


@dataclass
class ResolvedRequest:
    """A request checked against the registries and recipes, before any data is read."""

    variants: list[str]  # canonical, each once
    baselines: list[str]
    task: str
    dataset: str
    recipes: dict  # baseline -> Recipe
    image_size: int
    controls: list = field(default_factory=list)  # a CapacityMatch per variant with --control capacity

    @property
    def specs(self) -> list[str]:
        """Every spec the grid trains: baselines first, then the variants, then their capacity controls."""
        controls = [match.control for match in self.controls]
        return list(dict.fromkeys(self.baselines + self.variants + controls))


def resolve(request: GridRequest) -> ResolvedRequest:
    """Check ``request`` without reading data: specs, task, dataset name, recipes and their image size,
    then ``preflight``. Raises ``SuiteError`` with the fix, so a list of grids can be checked before any
    of them trains."""
    from suite.build import check_recipe_arguments
    from suite.datasets import DATASETS
    from suite.recipe import load_recipe

    check_request(request)
    variants = list(dict.fromkeys(str(canonical(text)) for text in request.variants))  # same key once
    baselines = sorted({parse(v).baseline for v in variants})
    task = _task_of(baselines)
    dataset = request.dataset or STANDARD_DATASET[task]
    card = DATASETS.entry(dataset)
    if card.meta["task"] != task:
        raise SuiteError(
            f"dataset {dataset!r} is a {card.meta['task']} set but {', '.join(baselines)} "
            f"{'is a' if len(baselines) == 1 else 'are'} {task} baseline; "
            f"{task} sets: {', '.join(n for n in DATASETS.list() if DATASETS.entry(n).meta['task'] == task)}"
        )
    recipes = {b: load_recipe(b, task, request.profile, request.overrides) for b in baselines}
    for variant in variants:  # unet(width=16) under a recipe of width 16 is unet itself: one network, one key
        check_recipe_arguments(variant, recipes[parse(variant).baseline].model, "the recipe")
    sizes = {r.image_size for r in recipes.values()}
    if len(sizes) > 1:
        raise SuiteError(
            f"the recipes of {', '.join(baselines)} use different image sizes {sorted(sizes)}; "
            "set one with --image-size"
        )
    resolved = ResolvedRequest(variants, baselines, task, dataset, recipes, sizes.pop())
    if request.control is not None:
        resolved.controls = capacity_controls(resolved, card.meta["card"], request)
    preflight(resolved, card.meta["card"], request.device)
    return resolved


def capacity_controls(resolved: ResolvedRequest, card, request: GridRequest) -> list:
    """The capacity-matched control of every variant with insertions (``suite.capacity``)."""
    from suite.capacity import match_capacity

    classes = len(card.classes) if resolved.task == "cls" else 1
    controls = []
    for variant in resolved.variants:
        if parse(variant).insertions:
            recipe = resolved.recipes[parse(variant).baseline]
            controls.append(
                match_capacity(
                    variant, resolved.task, classes, card.in_channels, recipe.image_size, recipe.model, request.match
                )
            )
    return controls


def preflight(resolved: ResolvedRequest, card, device: str) -> None:
    """Build every spec of the grid as it will train (on the meta device: no memory is touched) and
    check that its runs fit in memory, so a spec that cannot be built at this image size, or a run that
    cannot fit, is refused before any data is read or the store is opened."""
    import torch

    from suite.build import build_variant
    from suite.memory import check_fits, training_need

    classes = len(card.classes) if resolved.task == "cls" else 1
    samples = card.total_samples or 0
    for spec in resolved.specs:
        recipe = resolved.recipes[parse(spec).baseline]
        with torch.device("meta"):
            built = build_variant(spec, resolved.task, classes, card.in_channels, recipe.image_size, **recipe.model)
        need = training_need(built.model, recipe, card.in_channels, samples, resolved.task, device)
        check_fits(spec, need, device, f"to train at {recipe.image_size} px, batch {recipe.batch_size}")


def plan(request: GridRequest) -> Grid:
    """Resolve specs, dataset, recipe and manifest into the list of jobs (nothing is trained)."""
    from suite.datasets import load_dataset, make_manifest
    from suite.plugins import fingerprints

    resolved = resolve(request)
    dataset, baselines, recipes = resolved.dataset, resolved.baselines, resolved.recipes
    data = load_dataset(dataset, request.data_root, image_size=resolved.image_size)
    manifest = make_manifest(data, request.folds, request.split_seed)
    specs = resolved.specs
    jobs = []
    for spec in specs:
        recipe = recipes[parse(spec).baseline]
        plugins = fingerprints(canonical(spec))
        for fold in range(request.folds):
            for repeat in range(request.seeds):
                jobs.append(
                    Job(
                        spec=spec,
                        dataset=dataset,
                        data_root=request.data_root,
                        k=request.folds,
                        fold=fold,
                        seeds=Seeds.from_repeat(request.split_seed, repeat),
                        manifest_hash=manifest.sha256,
                        recipe=recipe.to_dict(),
                        recipe_hash=recipe.hash,
                        device=request.device,
                        plugins=plugins,
                    )
                )
    return Grid(dataset, resolved.task, specs, baselines, jobs, data, manifest, resolved.controls, resolved.variants)
