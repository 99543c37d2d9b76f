"""User-facing errors: one line that says what is wrong and how to fix it.

The CLI prints a ``SuiteError`` as a single line and exits with ``exit_code``; anything else is a bug
and keeps its traceback.
"""


class SuiteError(ValueError):
    """A mistake in the user's input; ``str(err)`` is the whole message."""

    exit_code = 2


class DataError(SuiteError):
    """Missing, corrupt or badly laid-out dataset files."""

    exit_code = 1


class StoreError(SuiteError):
    """The results store cannot be opened or written."""

    exit_code = 1
