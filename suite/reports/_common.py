"""Text every view shares: the table header, verdict wording, the statistics and family statement,
the metric tables (every validation metric, the official test split, per-image percentiles), the
provenance lines and the verdict counts."""

from __future__ import annotations

from typing import Callable

from suite import _stats
from suite.metric_catalog import metric_info
from suite.per_sample import PERCENTILES
from suite.reports import _format
from suite.reports.metric_tables import SpecValues, metric_order
from suite.reports.model import AD_HOC, Report, Section
from suite.reports.style import VERDICT_MEANINGS
from suite.verdict import Comparison
from suite.verdict_names import INCONCLUSIVE

HEADER = ("variant", "folds×seeds", "mean ± sd", "gain [95% CI]", "p (Holm)", "folds won",
          "P(>δ / ≈ / <−δ)", "verdict", "params added", "GMACs added", "latency added")  # fmt: skip


CAPACITY_COLUMN = "vs capacity control: gain [95% CI], verdict"


def table_header(metric: str, capacity: bool = False) -> list[str]:
    """Column names of the verdict table; the metric's unit goes on its mean column. ``capacity``: the
    section has capacity-matched controls, and their column follows the verdict."""
    unit = " (%)" if metric_info(metric).unit == "%" else ""
    names = [name if name != "mean ± sd" else f"{metric}{unit} mean ± sd" for name in HEADER]
    return _with_capacity(names, CAPACITY_COLUMN, HEADER.index("verdict") + 1) if capacity else names


def verdict_text(comp: Comparison) -> str:
    """The verdict, with the MDE of the rule for an inconclusive result that has statistics, and for a
    variant that holds and met its capacity-matched control, whether it beat that control too."""
    if comp.reason is not None:
        return "inconclusive (refused)"
    if comp.verdict == INCONCLUSIVE and comp.mde is not None:
        return f"inconclusive (MDE {_format.value(comp.mde, comp.metric)})"
    return comp.capacity_summary or comp.verdict


def capacity_cell(comp: Comparison) -> str:
    """The variant against its capacity-matched control: gain with CI and verdict ("–" without one)."""
    cap = comp.capacity
    if cap is None:
        return "–" if comp.control is None else "not compared"
    if not cap.has_stats:
        return f"refused: {cap.reason}"
    return f"{_format.gain_ci(cap)} {verdict_text(cap)}"


def capacity_lines(section: Section) -> list[str]:
    """One sentence per capacity-matched control of the section: which spec, and how big."""
    from suite.capacity import CapacityMatch

    controls = {c.variant: c.control for c in section.comparisons if c.control is not None}
    if not controls:
        return []
    lines = [
        "Capacity controls: each variant is also compared with a baseline made as big (its widths searched "
        "until its size is within ±2% of the variant's, or the closest larger step), same folds, seeds and "
        "recipe, by the same rule in its own Holm family; "
        + "; ".join(CapacityMatch.from_dict(control).describe() for control in controls.values())
        + "."
    ]
    return lines


def _with_capacity(cells: list[str], capacity: str, at: int) -> list[str]:
    return [*cells[:at], capacity, *cells[at:]]


def row_cells(comp: Comparison, capacity: bool = False) -> list[str]:
    """The cells after the variant name, in ``HEADER`` order (the capacity column after the verdict when
    ``capacity``), as plain text."""
    cells = _row_cells(comp)
    return _with_capacity(cells, capacity_cell(comp), HEADER.index("verdict")) if capacity else cells


def _row_cells(comp: Comparison) -> list[str]:
    return [
        _format.runs(comp),
        _format.mean_sd(comp.variant_mean, comp.variant_sd, comp.metric),
        _format.gain_ci(comp),
        _format.p_value(comp.shown_p),
        _format.folds_won(comp),
        _format.posterior(comp),
        verdict_text(comp),
        _format.params_added(comp),
        _format.gmacs_added(comp),
        _format.latency_added(comp),
    ]


def family_label(name: str, size: int) -> str:
    """One Holm family with its size: ``every unet variant on shapes · dice in the store (4 comparisons)``."""
    return f"{name} ({size} comparison{'s' if size != 1 else ''})"


def family_text(section: Section) -> str:
    return "; ".join(family_label(name, size) for name, size in section.families())


def statistics_lines(section: Section) -> list[str]:
    """The test, family, rules and units behind one section's table, as plain sentences."""
    comps = section.comparisons
    info = metric_info(section.metric)
    delta = _format.value(section.delta, section.metric)
    floored = [c.variant for c in comps if c.se_floored]
    lines = [
        f"Metric: {info.unit_text}; mean ± sd over all folds × seeds of the paired runs.",
        f"Folds: {section.folds} (the kind of k-fold split: contiguous blocks for ordered slices, grouped where a "
        "card knows which samples belong together, stratified by class, or random).",
        "Test: corrected resampled t-test (Nadeau & Bengio 2003) on per-fold differences averaged over seeds, "
        f"variance factor 1/k + n_test/n_train, df = k − 1, two-sided at {_stats.ALPHA:g} "
        f"({_stats.SIDE_ALPHA:g} per direction), Holm-adjusted within the family: {family_text(section)}.",
        f"Gain: oriented so that positive is better ({info.direction}), with its {_stats.CI_LEVEL:.0%} CI "
        f"(corrected SE). Practical-equivalence delta: ±{delta}.",
        "P(>δ / ≈ / <−δ): posterior probabilities of a gain above delta, inside ±delta and below −delta "
        "(correlated Bayesian t-test, Corani & Benavoli 2015).",
        "Verdicts: " + "; ".join(f"{label} = {meaning}" for label, meaning in VERDICT_MEANINGS.items())
        + f" (MDE: the true gain at which the rule says holds with probability {_stats.POWER:g}).",
        "Cost: " + _format.cost_units(comps) + ".",
    ]
    lines += [f"{calibration.summary()}." for calibration in section.calibrations()]
    lines += capacity_lines(section)
    if floored:
        lines.append(
            "Standard error floored at the metric's resolution (one validation sample) for: " + ", ".join(floored) + "."
        )
    return lines


def metric_heading(metric: str, compact: bool = False) -> str:
    """A metric's column title with unit and direction: ``HD95 (px, lower is better)``, compact ``HD95 px ↓``."""
    info = metric_info(metric)
    named = f"({info.unit})" in info.label  # "HD95 (mm)" says its unit already
    if compact:
        unit = "" if named else {"fraction 0-1": "", "as stored": ""}.get(info.unit, f" {info.unit}")
        return f"{info.label}{unit} {'↑' if info.higher_is_better else '↓'}"
    return f"{info.label} ({info.direction})" if named else f"{info.label} ({info.unit}, {info.direction})"


TEST_TITLE = "Official test split (test results: not part of the verdict)"
TEST_NOTE = (
    "Each run's model (one per fold and seed) scored once on the dataset's official test split after training; "
    "mean ± sd over those runs. The verdicts above use the validation folds only."
)
VALIDATION_TITLE = "Every validation metric"
VALIDATION_NOTE = (
    "Mean ± sd over folds × seeds of the last epoch's validation metrics; the verdict above tests one of them."
)
PER_IMAGE_TITLE = "Per image"


def values_table(
    rows: list[SpecValues], spec_label: Callable[[str], str] = str, compact: bool = False
) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of a metrics table: spec (as ``spec_label`` writes it), runs, then one ``mean ± sd``
    column per metric (``compact``: headers as ``metric_heading`` writes them compact)."""
    metrics = metric_order({name for row in rows for name in row.values})
    header = ["spec", "runs", *(metric_heading(m, compact) for m in metrics)]
    cells = []
    for row in rows:
        name = spec_label(row.spec) + (" (baseline)" if row.role == "baseline" else "")
        name += f" · {row.setting}" if row.setting else ""
        values = [_format.mean_sd(*row.values[m], m) if m in row.values else "–" for m in metrics]
        cells.append([name, str(row.runs), *values])
    return header, cells


def per_image_table(section: Section) -> tuple[list[str], list[list[str]]]:
    """(header, rows): per comparison, the percentiles of the baseline's, the variant's and the gain's values."""
    metric = section.metric
    header = ["variant", "images", "values", *(f"p{p}" for p in PERCENTILES), "better / worse / tied"]
    cells = []
    for item in section.per_image:
        name = item.variant + (f" · {item.setting}" if item.setting else "")
        summary = item.summary
        counts = f"{summary.better} / {summary.worse} / {summary.tied}"
        for label, values in (("baseline", summary.baseline), ("variant", summary.variant), ("gain", summary.gain)):
            signed = label == "gain"
            cells.append(
                [name if label == "baseline" else "", str(summary.images) if label == "baseline" else "", label,
                 *(_format.value(v, metric, signed) for v in values), counts if label == "gain" else ""]
            )  # fmt: skip
    return header, cells


def per_image_note(section: Section) -> str:
    info = metric_info(section.metric)
    return (
        f"Percentiles of {info.label} ({info.unit}, {info.direction}) over the validation images: each image's value "
        "under the baseline and the variant on the same fold and seeds (seeds averaged), and the per-image gain, "
        "positive = better; better / worse / tied counts the images."
    )


def implementation_lines(section: Section, report: Report) -> list[str]:
    """Which library computed each metric shown, with the versions the runs recorded, and the empty-mask rules."""
    shown = metric_order({section.metric} | {m for row in section.validation + section.test for m in row.values})
    packages = report.provenance.get("metric_packages", {})
    parts, empties = [], {}
    for metric in shown:
        info = metric_info(metric)
        if not info.implementation:
            continue
        versions = ", ".join(packages.get(info.package) or []) or "version not recorded"
        parts.append(f"{info.label}: {info.implementation} ({info.package} {versions})")
        if info.empty:
            empties.setdefault(info.empty, []).append(info.label)
    lines = ["Metrics computed by: " + "; ".join(parts) + "."] if parts else []
    if empties:
        rules = "; ".join(f"{', '.join(labels)}: {rule}" for rule, labels in empties.items())
        lines.append(f"Empty masks, per image: {rules} (where MONAI's distance is undefined).")
    if section.scoring:
        lines.append(f"Boundary metrics scored with: {section.scoring}.")
    return lines


def scope_text(report: Report) -> str:
    """Which family rule the report used, in one sentence."""
    if report.scope == AD_HOC:
        return ("Families: ad hoc, every variant of one baseline on one dataset and metric in the whole store "
                "(filters choose what is shown, never the family).")  # fmt: skip
    return f"Family: the planned {report.scope} (its variants as planned; filters choose what is shown)."


def provenance_lines(report: Report) -> list[tuple[str, str]]:
    """(label, value) pairs naming where the numbers came from."""
    prov = report.provenance

    def joined(values: list[str]) -> str:
        return ", ".join(values) if values else "not recorded"

    span = f"{prov.get('first_run_started') or '?'} to {prov.get('last_run_finished') or '?'}"
    return [
        ("report generated", f"{report.generated_at} by suite {prov['suite_version']}"),
        ("runs", f"{prov['n_runs']} runs, {span}"),
        ("suite version of the runs", joined(prov["run_suite_versions"])),
        ("git commit(s)", joined(prov["git_commits"])),
        ("device(s)", joined(prov["devices"])),
        ("torch / CUDA build", f"{joined(prov['torch_versions'])} / {joined(prov['cuda_versions'])}"),
    ]


def counts_text(report: Report) -> str:
    counts = report.counts()
    return f"{len(report.comparisons)} variant comparison(s): " + " · ".join(
        f"{n} {label}" for label, n in counts.items() if n
    )
