"""User-facing errors: one line that says what is wrong and how to fix it.

The CLI prints a ``SuiteError`` as a single line and exits with ``exit_code``; anything else is a bug
and keeps its traceback. ``Interrupted`` is no error but a signal: one line too, exit code 128 + signal.
"""


def shown(value: object, limit: int = 80) -> str:
    """``repr(value)`` for a one-line message, cut to about ``limit`` characters when longer."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 20]}...({len(text)} characters)"


class SuiteError(ValueError):
    """A mistake in the user's input; ``str(err)`` is the whole message."""

    exit_code = 2


class DataError(SuiteError):
    """Missing, corrupt or badly laid-out dataset files."""

    exit_code = 1


class StoreError(SuiteError):
    """The results store cannot be opened or written."""

    exit_code = 1


class Interrupted(BaseException):
    """SIGINT (Ctrl-C) or SIGTERM arrived. A ``BaseException`` like ``KeyboardInterrupt``, so no
    ``except Exception`` swallows it and every ``finally`` (a store transaction's rollback) runs.

    The CLI prints ``line`` and exits ``128 + signum`` (130 for SIGINT, 143 for SIGTERM); ``kept`` is
    set by a command that stores runs: how many runs of its grids the store holds.
    """

    def __init__(self, signum: int, kept: int | None = None):
        super().__init__(signum, kept)
        self.signum, self.kept = signum, kept

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    @property
    def line(self) -> str:
        if self.kept is None:
            return "interrupted"
        runs = "run" if self.kept == 1 else "runs"
        return f"interrupted; {self.kept} {runs} kept, run the same command to resume"
