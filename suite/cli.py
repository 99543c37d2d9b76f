"""The ``suite`` command line: list, inspect, data, run, demo, compare, report, dashboard.

Each group of commands lives in ``suite/commands/``; this file only assembles them and turns a
``SuiteError`` into one line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import sys

import typer

from suite.commands import build, compare, dashboard, data, run
from suite.errors import SuiteError

app = typer.Typer(
    name="suite",
    help="Does stitching this module into this network really make it better? Paired k-fold answers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
for commands in (build, data, run, compare, dashboard):
    commands.register(app)


def main() -> None:
    try:
        app()
    except SuiteError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(err.exit_code)
    except KeyboardInterrupt:
        print("interrupted: finished runs are kept; run the same command again to resume", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
