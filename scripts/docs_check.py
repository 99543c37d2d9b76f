"""Keep the outputs quoted in README.md and BENCHMARKS.md true: regenerate each marked block and compare.

A generated block sits between two markers::

    <!-- generated: NAME -->
    ...what the code prints today...
    <!-- end generated -->

``python scripts/docs_check.py`` fails (exit 1) naming every block that drifted; ``--write`` rewrites
them. Blocks:

- ``inspect-unet-se``: ``suite inspect unet+se --image-size 64 --width 16 --no-latency`` (120 columns);
- ``check-square-only``: ``suite check tests/plugins/square_only_attn.py --baseline unet`` (160 columns),
  the contract suite failing on a deliberately broken plugin;
- ``demo-verdicts``: the verdicts of the demo grids (``variants/demo.yaml``) in the family of each grid's
  study, read from the store ``make demo`` fills (``results/suite.db``, or ``--store``); nothing
  machine-dependent (no latency, no dates) goes in it, and the demo's numbers repeat on a fresh clone.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = ("README.md", "BENCHMARKS.md")
BLOCK = re.compile(r"(<!-- generated: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- end generated -->)", re.S)


class MissingInput(Exception):
    """A block cannot be regenerated here (e.g. no demo store yet)."""


def inspect_unet_se(store: Path) -> str:
    env = {**os.environ, "COLUMNS": "120", "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "suite", "inspect", "unet+se", "--image-size", "64", "--width", "16", "--no-latency"],
        capture_output=True, text=True, env=env, cwd=ROOT, check=True, timeout=300,
    )  # fmt: skip
    lines = [line.rstrip() for line in done.stdout.splitlines()]
    return "```\n$ suite inspect unet+se --image-size 64 --width 16 --no-latency\n" + "\n".join(lines) + "\n```\n"


def check_square_only(store: Path) -> str:
    """``suite check`` on the deliberately broken test plugin: it fails, one line per failure."""
    env = {**os.environ, "COLUMNS": "160", "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    command = ["check", "tests/plugins/square_only_attn.py", "--baseline", "unet"]
    done = subprocess.run(
        [sys.executable, "-m", "suite", *command], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300
    )
    if done.returncode != 1:
        raise RuntimeError(f"suite {' '.join(command)} exited {done.returncode}, not 1: {done.stderr.strip()}")
    lines = [line.rstrip() for line in done.stdout.splitlines()]
    return "```\n$ suite " + " ".join(command) + "\n" + "\n".join(lines) + "\n```\n"


def demo_verdicts(store: Path) -> str:
    """One markdown row per demo variant, in its grid's study family."""
    sys.path.insert(0, str(ROOT))
    from suite.grid import plan
    from suite.reports import _format
    from suite.reports._common import verdict_text
    from suite.reports.model import build_report
    from suite.runner import grid_study_of
    from suite.store import read_runs
    from suite.variant_sets import load

    runs = read_runs(store, status=None)
    if runs.empty:
        raise MissingInput(f"no runs in {store}; run `make demo` (or `suite demo --store {store}`) first")
    rows = [
        "| dataset | metric | baseline mean ± sd | variant | variant mean ± sd | gain [95% CI] | p (Holm) | folds won "
        "| P(gain > δ) | verdict |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for request in load("demo"):
        study = grid_study_of(request, plan(request))
        report = build_report(runs, plan=study.plan())
        if len(report.comparisons) != len(study.members) or any(c.reason for c in report.comparisons):
            raise MissingInput(f"{store} lacks the finished demo grid on {request.dataset}; run `make demo` first")
        for comp in report.comparisons:
            rows.append(
                f"| {comp.dataset} | {comp.metric} | "
                f"`{comp.baseline}` {_format.mean_sd(comp.baseline_mean, comp.baseline_sd, comp.metric)} | "
                f"`{comp.variant}` | {_format.mean_sd(comp.variant_mean, comp.variant_sd, comp.metric)} | "
                f"{_format.gain_ci(comp)} | {_format.p_value(comp.shown_p)} | {_format.folds_won(comp)} | "
                f"{_format.probability(comp.prob_above_delta)} | **{verdict_text(comp)}** |"
            )
    return "\n".join(rows) + "\n"


GENERATORS = {"inspect-unet-se": inspect_unet_se, "check-square-only": check_square_only, "demo-verdicts": demo_verdicts}


_NUMBER = re.compile(r"[-+]?\d[\d,]*\.?\d*")


def same_within_rounding(generated: str, quoted: str, units: int = 2) -> bool:
    """True when the two texts differ only in numbers, each by at most ``units`` in its last printed digit:
    another CPU may order a float reduction differently and move the fourth decimal of a Dice."""
    if _NUMBER.sub("#", generated) != _NUMBER.sub("#", quoted):
        return False
    for new, old in zip(_NUMBER.findall(generated), _NUMBER.findall(quoted)):
        digits = len(old.partition(".")[2])
        if abs(float(new.replace(",", "")) - float(old.replace(",", ""))) > units * 10**-digits + 1e-12:
            return False
    return True


def check(
    write: bool, store: Path, only: set[str] | None = None, tolerant: bool = False
) -> list[str]:
    """Names of the blocks that drifted (rewritten when ``write``); raises ``MissingInput``. ``tolerant``:
    numbers may differ within rounding (``same_within_rounding``)."""
    cache: dict[str, str] = {}
    drifted = []
    for name in DOCUMENTS:
        path = ROOT / name
        text = path.read_text(encoding="utf-8")

        def regenerate(match: re.Match) -> str:
            block = match["name"]
            if block not in GENERATORS:
                raise KeyError(f"{name}: unknown generated block {block!r}; known: {', '.join(GENERATORS)}")
            if only is not None and block not in only:
                return match.group(0)
            if block not in cache:
                cache[block] = GENERATORS[block](store)
            if cache[block] != match["body"] and not (tolerant and same_within_rounding(cache[block], match["body"])):
                drifted.append(f"{name}: {block}")
            return match.group(1) + cache[block] + match.group(4)

        new = BLOCK.sub(regenerate, text)
        if write and new != text:
            path.write_text(new, encoding="utf-8")
    return drifted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the blocks that drifted")
    parser.add_argument("--store", type=Path, default=ROOT / "results" / "suite.db", help="the demo's store")
    parser.add_argument("--only", action="append", choices=sorted(GENERATORS), help="check only this block (repeatable)")
    args = parser.parse_args()
    try:
        drifted = check(args.write, args.store, set(args.only) if args.only else None)
    except MissingInput as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for entry in drifted:
        print(("rewrote " if args.write else "drifted: ") + entry)
    if drifted and not args.write:
        print("run `python scripts/docs_check.py --write` and commit the result", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
