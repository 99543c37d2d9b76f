"""``suite dashboard``: serve the Streamlit leaderboard of a results store on this machine.

It runs ``streamlit run dashboard/app.py`` with the store path in ``$SUITE_STORE``, listening on
127.0.0.1 unless ``--host`` says otherwise. On POSIX the command becomes the Streamlit server
(``exec``), so Ctrl+C or a SIGTERM stops the server itself and leaves no orphan behind.
"""

from __future__ import annotations

import errno
import importlib.util
import os
import socket
import subprocess
import sys
from typing import Optional

import typer

from suite._resources import CHECKOUT, folder
from suite.errors import SuiteError
from suite.store import STORE_ENV, resolve_store_path

APP = folder("dashboard") / "app.py"


def register(app: typer.Typer) -> None:
    app.command("dashboard")(dashboard_command)


def _check_port_free(host: str, port: int) -> None:
    """Fail with a one-line fix where Streamlit could not listen: a busy port or an address not of this machine."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror:
        raise SuiteError(
            f"--host {host!r} is not an address of this machine; use 127.0.0.1 (local) or 0.0.0.0 (network)"
        ) from None
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        if os.name == "posix":  # as the server binds: a port left in TIME_WAIT by a stopped server is free
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as err:
            fix = (
                f"pass another --port, e.g. --port {port % 65535 + 1}"
                if err.errno == errno.EADDRINUSE
                else "use --host 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)"
            )
            raise SuiteError(f"cannot listen on {host}:{port} ({err.strerror}); {fix}") from None


def streamlit_command(host: str, port: int) -> list[str]:
    """The ``streamlit run`` command line that serves the app headless on ``host:port``."""
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.address", host,
        "--server.port", str(port),
        "--server.headless", "true",
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip


def dashboard_command(
    store: Optional[str] = typer.Option(None, "--store", help="SQLite store (default $SUITE_STORE or results/suite.db)."),
    port: int = typer.Option(8501, "--port", min=1, max=65535, help="TCP port to serve on."),
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on: 127.0.0.1 keeps it on this machine, 0.0.0.0 shares it."
    ),
) -> None:
    """Serve the leaderboard of a results store: verdicts, per-fold pairs, learning curves, gains vs cost."""
    path = resolve_store_path(store)
    if not APP.is_file():
        raise SuiteError(f"the dashboard app is not at {APP}; run suite from a source checkout (pip install -e .)")
    if importlib.util.find_spec("streamlit") is None:
        raise SuiteError("streamlit is not installed; pip install 'streamlit>=1.40'")
    _check_port_free(host, port)
    if not path.exists():
        typer.echo(f"note: store {path} does not exist yet; the dashboard shows how to create results", err=True)
    python_path = os.pathsep.join(p for p in (str(CHECKOUT), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, STORE_ENV: str(path), "PYTHONPATH": python_path}
    command = streamlit_command(host, port)
    typer.echo(f"suite dashboard: http://{host}:{port}  (store {path}; Ctrl+C stops it)", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        os.execve(sys.executable, command, env)
    raise typer.Exit(subprocess.call(command, env=env))
