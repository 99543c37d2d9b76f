"""Report formats: JSON against its schema, markdown tables, LaTeX structure and escaping, self-contained HTML."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import jsonschema
import numpy as np
import pandas as pd
import pytest
from _verdict_rows import CLS_DATASET, SEG_DATASET, effect_grid, runs_frame

from suite import __version__
from suite.reports import FORMATS
from suite.reports.json_document import SCHEMA_PATH, SCHEMA_VERSION
from suite.reports.latex import escape
from suite.reports.model import Report, build_report
from suite.reports.render import render
from suite.verdict_names import HOLDS, HOLDS_BEYOND_DELTA

CLAIMS = (HOLDS, HOLDS_BEYOND_DELTA)

VARIANTS = ("resnet18+se", "resnet18+cbam", "vit_tiny+se(rd_ratio=0.25)@block_1")


@pytest.fixture(scope="module")
def runs() -> pd.DataFrame:
    rng = np.random.default_rng(21)
    base, better = effect_grid(rng, 2.0)
    worse = base - 2.0 + rng.normal(0, 0.2, size=base.shape)
    vit_base, vit_same = effect_grid(rng, 0.0, noise=0.02)
    seg_base, seg_var = effect_grid(rng, 0.002, base=0.8, noise=0.002, spread=0.02)
    runs = pd.concat(
        [
            runs_frame({"resnet18": base, VARIANTS[0]: better, VARIANTS[1]: worse}),
            runs_frame({"vit_tiny": vit_base, VARIANTS[2]: vit_same}),
            runs_frame(
                {"unet": seg_base, "unet+se@dec1,dec2": seg_var}, dataset=SEG_DATASET, metric="dice", device="cuda"
            ),
        ],
        ignore_index=True,
    )
    runs.loc[runs["spec"] == "unet+se@dec1,dec2", "provenance"] = [
        {"versions": {"suite": __version__}, "git_commit": "def5678", "device_name": "NVIDIA H100", "cuda": "12.8"}
    ] * int((runs["spec"] == "unet+se@dec1,dec2").sum())
    return runs


@pytest.fixture(scope="module")
def report(runs) -> Report:
    return build_report(runs)


def test_report_gathers_verdicts_and_provenance(runs, report):
    verdicts = {c.variant: c.verdict for c in report.comparisons}
    assert verdicts[VARIANTS[0]] in CLAIMS and verdicts[VARIANTS[1]] == "worse"
    assert [s.title for s in report.sections] == [f"{CLS_DATASET} · accuracy", f"{SEG_DATASET} · dice"]
    prov = report.provenance
    assert prov["git_commits"] == ["abc1234", "def5678"]
    assert "cuda (NVIDIA H100)" in prov["devices"] and prov["cuda_versions"] == ["12.8"]
    assert prov["n_runs"] == len(runs)
    assert build_report(runs, dataset=SEG_DATASET).provenance["git_commits"] == ["abc1234", "def5678"]
    assert build_report(runs, baseline="vit_tiny").provenance["n_runs"] == int(
        runs["spec"].str.startswith("vit_tiny").sum()
    )
    assert [c.variant for c in report.failing("worse")] == [VARIANTS[1]]
    assert VARIANTS[0] not in [c.variant for c in report.failing("not-holds")]
    assert len(report.failing("not-holds")) == len(report.comparisons) - 1


def test_json_follows_its_schema(report):
    document = json.loads(render(report, "json"))
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(document, schema)
    assert document["schema_version"] == SCHEMA_VERSION
    for label in CLAIMS:
        assert document["verdict_counts"][label] == sum(c.verdict == label for c in report.comparisons)
    by_variant = {c["variant"]: c for c in document["comparisons"]}
    for comp in report.comparisons:
        assert by_variant[comp.variant]["gain"] == pytest.approx(comp.gain)
        assert by_variant[comp.variant]["ci95"] == pytest.approx(list(comp.ci95))
    broken = dict(document, comparisons=[dict(document["comparisons"][0], verdict="better")])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_markdown_tables_fit_a_ci_summary(report):
    text = render(report, "md")
    for section in report.sections:
        assert f"### {section.title}" in text
    table_rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(table_rows) == len(report.comparisons) + len({c.baseline for c in report.comparisons})
    header = next(line for line in text.splitlines() if line.startswith("| variant"))
    assert all(row.count(" | ") == header.count(" | ") for row in table_rows)
    assert "holds" in text and "worse" in text and "percentage points" in text and "fraction 0-1" in text
    for needed in ("Nadeau & Bengio", "Holm", "GMACs", "ms, batch 1", "abc1234", "NVIDIA H100", f"suite {__version__}"):
        assert needed in text


def _without_math(latex: str) -> str:
    return re.sub(r"\$[^$]*\$", "", latex)


def test_latex_is_a_booktabs_table_with_escaped_names(report):
    text = render(report, "latex")
    body = [line for line in text.splitlines() if not line.startswith("%")]
    joined = "\n".join(body)
    assert joined.count(r"\begin{table}") == joined.count(r"\end{table}") == len(report.sections)
    for rule in (r"\toprule", r"\bottomrule"):
        assert joined.count(rule) == len(report.sections)
    assert r"\texttt{vit\_tiny+se(rd\_ratio=0.25)@block\_1}" in joined
    columns = len(re.search(r"\\begin\{tabular\}\{(\w+)\}", joined).group(1))
    rows = [line for line in body if line.endswith(r"\\")]
    assert rows and all(len(line.split(" & ")) == columns for line in rows)
    for line in body:
        for cell in line.split(" & "):
            assert not re.search(r"(?<!\\)[_%#&]", _without_math(cell)), f"unescaped LaTeX special in {cell!r}"
    assert r"$\Uparrow$" in joined and r"$\downarrow$" in joined


def test_latex_escape_handles_every_special():
    assert escape("a_b&c%d$e#f{g}h~i^j\\k") == (
        r"a\_b\&c\%d\$e\#f\{g\}h\textasciitilde{}i\textasciicircum{}j\textbackslash{}k"
    )


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_latex_compiles(report, tmp_path):
    document = (
        "\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n"
        + render(report, "latex")
        + "\\end{document}\n"
    )
    (tmp_path / "table.tex").write_text(document)
    done = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "table.tex"], cwd=tmp_path, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stdout[-2000:]


class _TagCounter(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[str] = []
        self.sources: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.sources += [value for name, value in attrs if name in ("src", "href") and value]


def test_html_is_one_self_contained_file_with_plots(report):
    text = render(report, "html")
    parser = _TagCounter()
    parser.feed(text)
    assert "script" not in parser.tags and "link" not in parser.tags and parser.sources == []
    assert re.findall(r"https?://[^\s\"']+", text) == ["http://www.w3.org/2000/svg"] * text.count("<svg ")
    svgs = re.findall(r"<svg .*?</svg>", text, flags=re.S)
    assert len(svgs) >= 2 * len(report.sections) - 1
    for svg in svgs:
        ET.fromstring(svg)  # well-formed XML
    forest = svgs[0]
    tested = [c for c in report.sections[0].comparisons if c.has_stats]
    assert forest.count('r="5"') == len(tested)  # one gain dot per tested variant
    assert "±delta" in forest and "percentage points" in forest
    assert "<style>" in text and "Provenance" in text and "Holm" in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_states_provenance_and_statistics(report, fmt):
    text = render(report, fmt)
    for needed in ("abc1234", __version__, "Holm", report.generated_at[:10]):
        assert needed in text, f"{fmt} report lacks {needed!r}"


def test_the_same_spec_under_two_recipes_sits_under_its_own_baseline_row_labelled_by_what_differs():
    rng = np.random.default_rng(41)
    frames = []
    for size, recipe_hash in ((32, "a" * 16), (64, "b" * 16)):
        base, better = effect_grid(rng, 2.0)
        frame = runs_frame({"resnet18": base, "resnet18+se": better}, recipe_hash=recipe_hash)
        frame["recipe"] = [{"task": "cls", "image_size": size, "epochs": 5}] * len(frame)
        frames.append(frame)
    report = build_report(pd.concat(frames, ignore_index=True))
    (section,) = report.sections
    assert [(s.baseline, s.label) for s in section.settings] == [("resnet18", "image_size=32"), ("resnet18", "image_size=64")]
    assert [len(s.comparisons) for s in section.settings] == [1, 1]
    assert {c.family_size for c in section.comparisons} == {2}  # one ad-hoc family: every resnet18 variant here
    text = render(report, "md")
    assert "`resnet18` (baseline; image_size=32)" in text and "`resnet18` (baseline; image_size=64)" in text
    document = json.loads(render(report, "json"))
    assert sorted(c["setting"] for c in document["comparisons"]) == ["image_size=32", "image_size=64"]


def test_a_planned_family_ignores_unrelated_variants_and_counts_failed_members():
    from suite.verdict import Plan

    rng = np.random.default_rng(42)
    base, better = effect_grid(rng, 1.0, noise=0.5)
    runs = runs_frame({"resnet18": base, "resnet18+se": better})
    plan = Plan("grid g1", frozenset({("resnet18+se", CLS_DATASET, "m" * 64, "r" * 16)}))
    (alone,) = build_report(runs, plan=plan).comparisons
    crowd = pd.concat([runs, runs_frame({f"resnet18+x{i}": base + rng.normal(0, 0.5, base.shape) for i in range(3)})])
    (planned,) = build_report(crowd, plan=plan).comparisons
    assert (planned.p_adjusted, planned.verdict, planned.family_size) == (alone.p_adjusted, alone.verdict, 1)
    ad_hoc = {c.variant: c for c in build_report(crowd).comparisons}
    assert ad_hoc["resnet18+se"].family_size == 4 and ad_hoc["resnet18+se"].p_adjusted >= alone.p_adjusted
    two = Plan("grid g2", plan.members | {("resnet18+cbam", CLS_DATASET, "m" * 64, "r" * 16)})
    (with_missing,) = build_report(runs, plan=two).comparisons  # cbam planned, never ran: p = 1 in the family
    assert with_missing.family_size == 2 and with_missing.p_adjusted == pytest.approx(min(1.0, 2 * alone.p))
