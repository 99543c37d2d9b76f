"""Across datasets: does a module help in general, not only on one dataset? (``suite compare --across-datasets``)

The unit is the insertion, named as a user would write it after the baseline: ``se`` when SE sits at its
baseline's default points (so ``resnet18+se`` on digits and ``unet+se`` on shapes count as one module tried
on two datasets), else its compact spec (``se@enc1``). Each (dataset, baseline) where it was compared is
a *task*. From a ``Report`` (ad-hoc families over the whole store) this gives:

- per insertion, its verdict on every task side by side, and a Wilcoxon signed-rank test (scipy) on its
  per-task gains measured in units of each task's delta (gains in % points and in Dice are not
  commensurable; gain / delta is: 1 means one practical margin). Needs 3 datasets; with fewer than 6 no
  two-sided p can fall below 0.05, and the table says so;
- for several insertions, average ranks over the tasks where all of them and their baseline ran (a
  complete block; rank 1 = best, direction-aware), Friedman's test, and the Nemenyi critical difference
  (Demšar 2006) from autorank, which needs at least 5 datasets; below that the ranks and Friedman's p
  (scipy) are shown without a critical difference. With the baseline and one module only, autorank's
  omnibus test is Wilcoxon's and there is no critical difference.

A dataset where one baseline ran under two recipes or splits (or two baselines ran) shows each as its
own task, named with the report's setting label ("shapes (unet; image_size=48)"); the tests and the
ranking average a dataset's tasks into one value, so no dataset counts twice. ``AcrossReport.autorank_result`` keeps autorank's own
  result, so a view can draw the critical-difference diagram with ``autorank.plot_stats``.
"""

from __future__ import annotations

import contextlib
import io
import math
from dataclasses import dataclass, field

import pandas as pd
from scipy import stats

from suite.errors import SuiteError
from suite.reports.model import Report
from suite.reports.style import style
from suite.verdict import Comparison

MIN_DATASETS = 3  # datasets an insertion needs before it is compared across datasets
AUTORANK_MIN_DATASETS = 5  # autorank's own minimum of paired measurements (datasets)
BASELINE = "baseline"  # the population of the plain networks in the ranking
CELL_NOTE = (
    "Each cell: verdict mark and gain in units of that task's delta (1 = one practical margin; "
    "> 0 is better). Wilcoxon signed-rank test (two-sided, scipy) on those gains across tasks."
)


@dataclass
class Task:
    """One insertion on one dataset and baseline: its verdict and its gain in units of delta."""

    dataset: str
    baseline: str
    metric: str
    variant: str
    verdict: str
    gain: float | None
    delta: float
    setting: str = ""  # the report's setting label when the baseline has several recipes/splits there

    @property
    def name(self) -> str:
        return f"{self.dataset} ({self.baseline}{'; ' + self.setting if self.setting else ''})"

    @property
    def gain_in_deltas(self) -> float | None:
        return None if self.gain is None else self.gain / self.delta

    @property
    def cell(self) -> str:
        """Its cell in the side-by-side table: the verdict mark and the gain in deltas (``⇑ +1.23``, ``? refused``)."""
        shown = "refused" if self.gain is None else f"{self.gain_in_deltas:+.2f}"
        return f"{style(self.verdict).mark} {shown}"


@dataclass
class AcrossInsertion:
    label: str  # "se", or a compact insertion such as "se@enc1"
    tasks: list[Task]
    wilcoxon_p: float | None = None  # two-sided, on gain / delta over the tasks with a gain
    median_gain_in_deltas: float | None = None
    note: str = ""

    @property
    def wins(self) -> int:
        return sum(t.gain is not None and t.gain > 0 for t in self.tasks)

    def gains_by_dataset(self) -> dict[str, float]:
        """gain / delta per dataset: the settings of one dataset averaged into one value, so no dataset
        counts twice in a test."""
        found: dict[str, list[float]] = {}
        for task in self.tasks:
            if task.gain_in_deltas is not None:
                found.setdefault(task.dataset, []).append(task.gain_in_deltas)
        return {dataset: sum(values) / len(values) for dataset, values in found.items()}

    @property
    def tested(self) -> int:
        """Tasks with a gain (refused ones have none)."""
        return sum(t.gain is not None for t in self.tasks)


@dataclass
class Ranking:
    populations: list[str]  # BASELINE first, then insertion labels
    datasets: list[str]  # the complete block the ranks are computed over (a dataset's settings averaged)
    mean_ranks: dict[str, float]  # 1 = best
    omnibus_p: float | None  # of the test that all populations rank alike
    critical_difference: float | None  # Nemenyi, at alpha 0.05; None below AUTORANK_MIN_DATASETS datasets
    method: str
    dropped: list[str] = field(default_factory=list)  # insertions left out to keep the block complete
    omnibus: str = "Friedman"  # the test behind omnibus_p: Friedman, or Wilcoxon for two populations

    @property
    def no_critical_difference(self) -> str | None:
        """Why no critical difference was computed, in one sentence (None when there is one)."""
        if self.critical_difference is not None:
            return None
        if len(self.datasets) < AUTORANK_MIN_DATASETS:
            return (
                f"autorank's Nemenyi test needs {AUTORANK_MIN_DATASETS} or more datasets and these modules share "
                f"{len(self.datasets)}"
            )
        if len(self.populations) < 3:
            return (
                "with the baseline and a single module autorank compares the two with a Wilcoxon test, "
                "which has no critical difference; rank two or more modules"
            )
        return "autorank gave no finite critical difference"


@dataclass
class AcrossReport:
    insertions: list[AcrossInsertion]
    ranking: Ranking | None
    task_names: list[str]
    skipped: list[str]  # insertions on fewer than MIN_DATASETS datasets
    autorank_result: object | None = field(default=None, repr=False)  # autorank's RankResult, for plot_stats


def insertion_label(spec: str) -> str:
    """``resnet18+se@blocks1,...,blocks4`` -> ``se`` when those are the default points, else the compact
    insertion part (``unet(width=18)+se`` -> ``(width=18)+se``); a spec this version cannot resolve keeps
    its text after the baseline."""
    from suite.baselines import BASELINES
    from suite.spec import Spec, canonical, compact, insertion_kind

    try:
        spec_obj = canonical(spec)
        catalog = BASELINES.entry(spec_obj.baseline).meta["catalog"]
        # A spec with baseline arguments (unet(width=18)+se) is not the module alone: its label keeps them.
        arguments = str(Spec(spec_obj.baseline, (), spec_obj.baseline_kwargs))[len(spec_obj.baseline) :]
        parts = [arguments] if arguments else []
        compact_parts = compact(spec_obj).split("+")[1:]
        for insertion, compact_text in zip(spec_obj.insertions, compact_parts):
            kind = insertion_kind(insertion)
            default = catalog.expand(catalog.default_points(kind, spec_obj.baseline, insertion.module))
            if tuple(insertion.points) == tuple(default) and insertion.mode is None:
                parts.append(compact_text.split("@")[0])
            else:
                parts.append(compact_text)
        return "+".join(parts)
    except SuiteError:
        return spec.partition("+")[2] or spec


def _task(comp: Comparison, setting: str) -> Task:
    gain = comp.gain if comp.has_stats else None
    return Task(comp.dataset, comp.baseline, comp.metric, comp.variant, comp.verdict, gain, comp.delta, setting)


def _with_settings(report: Report) -> list[tuple[Comparison, str]]:
    """Every comparison with its setting label: one dataset run at two image sizes is two tasks."""
    return [(comp, s.label) for section in report.sections for s in section.settings for comp in s.comparisons]


def _wilcoxon(insertion: AcrossInsertion) -> None:
    gains = list(insertion.gains_by_dataset().values())
    if len(gains) < MIN_DATASETS:
        insertion.note = f"tested on {len(gains)} dataset(s); Wilcoxon needs {MIN_DATASETS}"
        return
    insertion.median_gain_in_deltas = float(pd.Series(gains).median())
    if all(g == 0 for g in gains):
        insertion.wilcoxon_p = 1.0
        return
    insertion.wilcoxon_p = float(stats.wilcoxon(gains, alternative="two-sided", zero_method="zsplit").pvalue)
    if len(gains) < 6:
        insertion.note = f"{len(gains)} datasets: the smallest two-sided p Wilcoxon can give is {2 / 2 ** len(gains):.3g}"


def _block(insertions: list[AcrossInsertion]) -> tuple[list[AcrossInsertion], list[str], list[str]]:
    """The insertions and datasets of the largest complete block; drops the least-covered insertion until one exists."""
    chosen, dropped = list(insertions), []
    while chosen:
        datasets = set.intersection(*(set(ins.gains_by_dataset()) for ins in chosen))
        if len(datasets) >= MIN_DATASETS:
            return chosen, sorted(datasets), dropped
        weakest = min(chosen, key=lambda ins: (len(ins.gains_by_dataset()), ins.label))
        chosen.remove(weakest)
        dropped.append(weakest.label)
    return [], [], dropped


def _ranking(
    insertions: list[AcrossInsertion], comparisons: list[Comparison]
) -> tuple[Ranking | None, object | None]:
    """The ranking over the complete block (one row per dataset, its settings averaged), and autorank's
    result where autorank ran (else None)."""
    chosen, datasets, dropped = _block(insertions)
    if not chosen:
        return None, None
    labels = {ins.label for ins in chosen}
    values: dict[str, dict[str, list[float]]] = {dataset: {} for dataset in datasets}
    for comp in comparisons:
        label = insertion_label(comp.variant)
        if comp.dataset not in values or label not in labels or not comp.has_stats:
            continue
        sign = 1.0 if comp.higher_is_better else -1.0
        values[comp.dataset].setdefault(label, []).append(sign * comp.variant_mean)
        values[comp.dataset].setdefault(BASELINE, []).append(sign * comp.baseline_mean)
    populations = [BASELINE] + [ins.label for ins in chosen]
    rows = {dataset: {p: sum(v) / len(v) for p, v in cells.items()} for dataset, cells in values.items()}
    table = pd.DataFrame.from_dict(rows, orient="index")[populations]
    ranks = table.rank(axis=1, ascending=False).mean().to_dict()
    omnibus_p, cd, method, result, omnibus = None, None, "average ranks (1 = best)", None, "Friedman"
    if len(populations) >= 3:
        omnibus_p = float(stats.friedmanchisquare(*(table[c] for c in populations)).pvalue)
        method = "average ranks (1 = best), Friedman test (scipy)"
    if len(datasets) >= AUTORANK_MIN_DATASETS and len(populations) >= 2:
        from autorank import autorank

        with contextlib.redirect_stdout(io.StringIO()):  # autorank announces the forced mode on stdout
            result = autorank(table, alpha=0.05, order="descending", force_mode="nonparametric")
        ranks = result.rankdf["meanrank"].to_dict()
        omnibus_p, omnibus = float(result.pvalue), str(result.omnibus).capitalize()
        cd = float(result.cd) if result.cd is not None and math.isfinite(result.cd) else None
        method = f"average ranks (1 = best), {omnibus} test (autorank)"
        if cd is not None:
            method += f" and {str(result.posthoc).capitalize()} critical difference"
    ranks_by = {p: float(ranks[p]) for p in populations}
    ranking = Ranking(populations, datasets, ranks_by, omnibus_p, cd, method, dropped, omnibus)
    return ranking, result


def build_across(report: Report) -> AcrossReport:
    """Per-insertion verdicts across tasks, Wilcoxon on gain / delta, and the ranking (see the module doc)."""
    grouped: dict[str, list[Task]] = {}
    for comp, setting in _with_settings(report):
        grouped.setdefault(insertion_label(comp.variant), []).append(_task(comp, setting))
    across, skipped = [], []
    for label, tasks in sorted(grouped.items()):
        datasets = len({t.dataset for t in tasks})
        if datasets < MIN_DATASETS:
            skipped.append(f"{label} ({datasets} dataset(s))")
            continue
        insertion = AcrossInsertion(label, sorted(tasks, key=lambda t: t.name))
        _wilcoxon(insertion)
        across.append(insertion)
    if not across:
        raise SuiteError(
            f"no module has been compared on {MIN_DATASETS} or more datasets yet "
            f"({', '.join(skipped) or 'no variants'}); run it on more datasets, "
            "e.g. suite run --variant unet+se --dataset isbi2012-membrane --data-root DIR"
        )
    names = sorted({t.name for ins in across for t in ins.tasks})
    ranking, result = _ranking(across, report.comparisons)
    return AcrossReport(across, ranking, names, skipped, result)
