"""The ``suite`` command line: list, inspect, check, data, run, demo, sweep, ablate, compare, report, dashboard.

Each group of commands lives in ``suite/commands/``; this file only assembles them, takes the global
option ``--plugin PATH.py`` (anywhere on the command line: ``main`` moves it in front of the command,
where the app's callback loads the file through ``suite.plugins``) and turns what can go wrong into
one line on stderr and an exit code, never a traceback:

- a ``SuiteError`` (bad input): ``error: ...``, its ``exit_code``;
- a usage error (unknown option, a value not among the choices): ``error: ...`` naming the valid
  values and the ``--help`` to read, exit code 2;
- SIGINT (Ctrl-C) or SIGTERM: ``interrupted; N runs kept, ...``, exit code 130 or 143. The signal
  raises ``Interrupted`` where the program is, so transactions roll back and finished runs stay.
"""

from __future__ import annotations

import signal
import sys

import typer
from typer._click.exceptions import ClickException, NoArgsIsHelpError

from suite import plugins
from suite.commands import build, calibrate, check, compare, dashboard, data, run, studies
from suite.errors import Interrupted, SuiteError

app = typer.Typer(
    name="suite",
    help="Does stitching this module into this network really make it better? Paired k-fold answers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
for commands in (build, check, data, run, studies, calibrate, compare, dashboard):
    commands.register(app)


@app.callback()
def _global_options(
    plugin: list[str] = typer.Option(
        [], "--plugin", metavar="PATH.py",
        help="A Python file that registers modules (repeatable; accepted anywhere on the command line; "
        "also SUITE_PLUGINS=a.py:b.py).",
    ),
) -> None:
    """Does stitching this module into this network really make it better? Paired k-fold answers."""
    if plugin:
        plugins.use(plugin)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _interrupt(signum: int, frame: object) -> None:
    raise Interrupted(signum)


def usage_line(err: ClickException) -> str:
    """A usage error in one line: typer's message without its line breaks, and where help is."""
    message = " ".join(err.format_message().replace("Value error, ", "").split())
    command = err.ctx.command_path if getattr(err, "ctx", None) is not None else "suite"
    return f"{message[:1].lower()}{message[1:].rstrip('.')}; see `{command} --help`"


def main() -> None:
    for signum in STOP_SIGNALS:
        signal.signal(signum, _interrupt)
    try:
        code = app(args=plugins.hoist_options(sys.argv[1:]), prog_name="suite", standalone_mode=False)
    except SuiteError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(err.exit_code)
    except Interrupted as err:
        print(err.line, file=sys.stderr)
        sys.exit(err.exit_code)
    except NoArgsIsHelpError as err:  # `suite` or `suite data` alone: the help is printed already
        sys.exit(err.exit_code)
    except ClickException as err:
        print(f"error: {usage_line(err)}", file=sys.stderr)
        sys.exit(err.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
