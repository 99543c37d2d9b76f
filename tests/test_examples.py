"""The example CI workflow stays runnable: each ``suite`` command in it parses with today's options,
and the variant set it trains exists."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import typer
import yaml

from suite.cli import app
from suite.variant_sets import resolve

WORKFLOW = Path(__file__).resolve().parents[1] / "examples" / "ci" / "github-workflow.yml"


def suite_commands() -> list[list[str]]:
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["verdict"]["steps"]
    commands = []
    for step in steps:
        for line in str(step.get("run", "")).replace(">>", "\n").splitlines():
            words = shlex.split(line, comments=True)
            if words[:1] == ["suite"]:
                commands.append(words[1:])
    return commands


def test_the_workflow_trains_reports_and_gates():
    names = [words[0] for words in suite_commands()]
    assert names.count("run") == 1 and "report" in names
    assert any("--fail-on" in words for words in suite_commands())


@pytest.mark.parametrize("words", suite_commands(), ids=lambda words: " ".join(words))
def test_each_suite_command_of_the_workflow_parses(words):
    group = typer.main.get_command(app)
    command = group.get_command(None, words[0])
    assert command is not None, words[0]
    context = command.make_context(words[0], list(words[1:]))  # raises on an unknown option
    if context.params.get("grid"):
        assert resolve(context.params["grid"]).is_file()
