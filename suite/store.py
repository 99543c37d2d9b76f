"""The results store: one SQLite database (WAL) holding a row per finished run.

Only the driver writes, one transaction per finished run (done or failed), so a grid killed mid-run
keeps every finished run and leaves nothing of the unfinished one; the same command resumes it.
Readers (``read_runs``, the dashboard) open the file read-only and see a consistent snapshot while
the driver writes: that is what WAL mode gives.

Several drivers may share one store. Each claims a run (``suite.claims``) before training it, and a
run another driver stored first is skipped by ``write``, never stored twice. Locks held by another
driver are waited out (``suite._busy``), never reported as ``database is locked``.

Durability: ``synchronous=FULL``. In WAL mode ``NORMAL`` is consistent but may lose the last commits
on a power cut, because the WAL is only synced at checkpoints; a lost row is a run that took minutes
or hours of training, while FULL costs one fsync per finished run, nothing next to a training run.

The schema is versioned (``PRAGMA user_version``, steps in ``suite._migrations``); a store opened by
this code is migrated forward in one transaction, and one written by a newer suite is refused untouched.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shlex
import socket
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import pandas as pd

from suite import __version__
from suite._busy import BUSY_TIMEOUT_S, RETRY_S, retry_busy
from suite._migrations import check_version, migrate, user_version
from suite._store_schema import (
    SEED_COLUMNS,
    SORT_COLUMNS,
    frame,
    ids_row,
    record_to_row,
    calibration_to_row,
    row_to_calibration,
    row_to_record,
    row_to_study,
    study_to_row,
)
from suite.errors import StoreError
from suite.records import RunRecord
from suite.studies.calibrate import Calibration
from suite.studies.record import Study

T = TypeVar("T")
DEFAULT_STORE = Path("results") / "suite.db"
STUDIES_SINCE = 4  # schema version that added the studies table
CALIBRATIONS_SINCE = 5  # ... and the calibrations table
STORE_ENV = "SUITE_STORE"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_FILTER_ALIASES = {"seed": "init_seed"}
_VERSIONED_PACKAGES = {
    "torch": "torch",
    "torchvision": "torchvision",
    "timm": "timm",
    "smp": "segmentation-models-pytorch",
    "torchmetrics": "torchmetrics",
    "fvcore": "fvcore",
    "numpy": "numpy",
    "monai": "monai",  # HD95, NSD
    "scikit-image": "scikit-image",  # clDice's skeletons
}


def resolve_store_path(path: str | Path | None = None) -> Path:
    """``path`` if given, else ``$SUITE_STORE``, else ``results/suite.db`` under the current folder."""
    chosen = path if path not in (None, "") else os.environ.get(STORE_ENV) or DEFAULT_STORE
    return Path(chosen).expanduser().absolute()


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def _unwritable(path: Path, err: BaseException) -> StoreError:
    return StoreError(
        f"cannot write the store at {path} ({_one_line(err)}); pass a writable file with --store or SUITE_STORE"
    )


def _unreadable(path: Path, err: BaseException) -> StoreError:
    return StoreError(f"cannot read the store at {path} ({_one_line(err)}); check the path and its permissions")


def _corrupt(path: Path) -> StoreError:
    return StoreError(
        f"store {path} is not a readable SQLite database (corrupt or another kind of file); "
        "move it aside or pass another --store"
    )


def _check_header(path: Path) -> None:
    """Refuse a non-empty file that does not start with the SQLite header, before SQLite touches it."""
    try:
        with path.open("rb") as handle:
            head = handle.read(len(_SQLITE_MAGIC))
    except FileNotFoundError:
        return
    except OSError as err:
        raise _unwritable(path, err) from None
    if head and head != _SQLITE_MAGIC:
        raise _corrupt(path)


class Store:
    """Read-write handle on a results store; a context manager (``with Store(path) as store:``)."""

    def __init__(self, path: str | Path | None = None):
        self.path = resolve_store_path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise _unwritable(self.path, err) from None
        _check_header(self.path)
        try:
            self._conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as err:
            raise _unwritable(self.path, err) from None
        self._conn.row_factory = sqlite3.Row
        try:
            check_version(self._conn, self.path)  # before any write: a newer store stays untouched
            retry_busy(self._prepare)
        except sqlite3.Error as err:
            self._conn.close()
            raise self._translate(err) from None
        except BaseException:
            self._conn.close()
            raise

    def _prepare(self) -> None:
        """WAL, full sync and the current schema; retried as a whole while another process holds the lock."""
        if self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
            raise StoreError(f"store {self.path} cannot use WAL mode; put it on a local disk (not a network share)")
        self._conn.execute("PRAGMA synchronous = FULL")
        migrate(self._conn, self.path)

    def _translate(self, err: sqlite3.Error) -> StoreError:
        """An sqlite3 error as a one-line ``StoreError`` that says what to do."""
        text = str(err).lower()
        if "not a database" in text or "malformed" in text:
            return _corrupt(self.path)
        if "locked" in text or "busy" in text:
            return StoreError(
                f"store {self.path} is locked by another writer for over {RETRY_S:.0f} s; "
                "let the other suite run finish or pass another --store"
            )
        return _unwritable(self.path, err)

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._conn.close()

    def schema_version(self) -> int:
        return user_version(self._conn)

    def keys(self, status: str | None = None) -> set[str]:
        """Keys of the stored runs, optionally only those with ``status`` (done | failed)."""
        if status is None:
            return {row[0] for row in self._conn.execute("SELECT key FROM runs")}
        return {row[0] for row in self._conn.execute("SELECT key FROM runs WHERE status = ?", (status,))}

    def has(self, key: str) -> bool:
        """True when a finished run (done or failed) is stored under ``key``."""
        found = self._conn.execute("SELECT 1 FROM runs WHERE key = ? AND status IN ('done', 'failed')", (key,))
        return found.fetchone() is not None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` around the block: the whole change or none of it.

        The write lock is taken at the start, waiting (busy timeout, then retries with backoff) while
        another process holds it; an error in the block rolls back and releases it.
        """
        try:
            retry_busy(lambda: self._conn.execute("BEGIN IMMEDIATE"))
        except sqlite3.Error as err:
            raise self._translate(err) from None
        try:
            yield self._conn
            self._conn.execute("COMMIT")
        except sqlite3.Error as err:
            self._rollback()
            raise self._translate(err) from None
        except BaseException:
            self._rollback()
            raise

    def write(self, record: RunRecord, replace: bool = False) -> bool:
        """Insert one finished run and drop its claim, in one transaction: all of it or nothing.

        Returns False, writing nothing, when a finished run is already stored under the key (another
        process sharing the store finished it first); ``replace=True`` overwrites a *failed* run (a
        retry), never a done one.
        """
        row = record_to_row(record)
        with self.transaction() as conn:
            stored = conn.execute("SELECT status FROM runs WHERE key = ?", (record.key,)).fetchone()
            written = stored is None or (replace and stored["status"] == "failed")
            if written:
                verb = "INSERT OR REPLACE" if stored is not None else "INSERT"
                marks = ", ".join("?" * len(row))
                conn.execute(f"{verb} INTO runs ({', '.join(row)}) VALUES ({marks})", tuple(row.values()))
                ids = ids_row(record)
                if ids is not None:
                    conn.execute("INSERT OR IGNORE INTO sample_ids (digest, ids) VALUES (?, ?)", ids)
            conn.execute("DELETE FROM claims WHERE key = ?", (record.key,))  # a stored run needs no claim
        return written

    def _rollback(self) -> None:
        if self._conn.in_transaction:  # SQLite may already have rolled back (disk full, I/O error)
            self._conn.execute("ROLLBACK")

    def get(self, key: str) -> RunRecord | None:
        row = self._conn.execute("SELECT * FROM runs WHERE key = ?", (key,)).fetchone()
        return None if row is None else row_to_record(dict(row), _sample_ids(self._conn, [dict(row)]))

    def records(self, **filters: Any) -> list[RunRecord]:
        """Stored runs whose columns equal the filters (a list, tuple or set means any of; ``seed`` = init seed)."""
        return _select(self._conn, filters)

    def runs(self, status: str | None = "done", dataset: str | None = None) -> pd.DataFrame:
        """The runs as a DataFrame (contract in ``suite._store_schema``), optionally one status and dataset."""
        return frame(_select(self._conn, {"status": status, "dataset": dataset}, skip_none=True))

    def add_study(self, study: Study) -> Study:
        """Record ``study`` unless the same plan is already stored; returns the stored one."""
        row = study_to_row(study)
        sql = f"INSERT OR IGNORE INTO studies ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})"
        try:
            retry_busy(lambda: self._conn.execute(sql, tuple(row.values())))
        except sqlite3.Error as err:
            raise self._translate(err) from None
        return next(s for s in self.studies() if s.id == study.id)

    def studies(self) -> list[Study]:
        return _studies(self._conn)

    def add_calibration(self, calibration: Calibration) -> None:
        """Record ``calibration``, replacing one made from the same dataset, recipe, k, metric and splits."""
        row = calibration_to_row(calibration)
        sql = f"INSERT OR REPLACE INTO calibrations ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})"
        try:
            retry_busy(lambda: self._conn.execute(sql, tuple(row.values())))
        except sqlite3.Error as err:
            raise self._translate(err) from None


def _calibrations(conn: sqlite3.Connection) -> list[Calibration]:
    rows = conn.execute("SELECT * FROM calibrations ORDER BY created_at, id").fetchall()
    return [row_to_calibration(dict(row)) for row in rows]


def _studies(conn: sqlite3.Connection) -> list[Study]:
    rows = conn.execute("SELECT * FROM studies ORDER BY created_at, name").fetchall()
    return [row_to_study(dict(row)) for row in rows]


def _select(conn: sqlite3.Connection, filters: dict[str, Any], skip_none: bool = False) -> list[RunRecord]:
    """Records matching ``filters`` (column = value, IN for collections), sorted like the DataFrame."""
    columns = [row[1] for row in conn.execute("PRAGMA table_info(runs)")]
    clauses, values = [], []
    for name, value in filters.items():
        if value is None and skip_none:
            continue
        column = _FILTER_ALIASES.get(name, name)
        if column not in columns:
            raise StoreError(f"cannot filter runs by {name!r}; filter by one of: {', '.join(['seed', *columns])}")
        if isinstance(value, (list, tuple, set, frozenset)):
            values.extend(value)
            clauses.append(f"{column} IN ({', '.join('?' * len(value))})")
        elif value is None:
            clauses.append(f"{column} IS NULL")
        else:
            values.append(value)
            clauses.append(f"{column} = ?")
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    order = ", ".join(SEED_COLUMNS["init"] if c == "seed" else c for c in SORT_COLUMNS)
    rows = [dict(row) for row in conn.execute(f"SELECT * FROM runs{where} ORDER BY {order}", values).fetchall()]
    ids = _sample_ids(conn, rows)
    return [row_to_record(row, ids) for row in rows]


def _sample_ids(conn: sqlite3.Connection, rows: list[dict]) -> dict[str, bytes]:
    """The compressed id lists the rows' per-sample values follow, each read once (none before schema v6)."""
    digests = sorted({row["sample_ids"] for row in rows if row.get("sample_ids")})
    if not digests:
        return {}
    marks = ", ".join("?" * len(digests))
    return dict(conn.execute(f"SELECT digest, ids FROM sample_ids WHERE digest IN ({marks})", digests).fetchall())


def _read(path: str | Path | None, query: Callable[[sqlite3.Connection, int], T], empty: T) -> T:
    """``query(conn, schema_version)`` on the store at ``path`` opened read-only; ``empty`` when there is
    no store (yet)."""
    path = resolve_store_path(path)
    if not path.exists():
        return empty
    if path.is_dir():
        raise StoreError(f"the store {path} is a folder; pass the database file in it with --store")
    _check_header(path)
    try:
        conn = _connect_read_only(path)
    except sqlite3.DatabaseError as err:
        raise _read_error(path, err) from None
    conn.row_factory = sqlite3.Row
    try:
        version = check_version(conn, path)
        return empty if version == 0 else query(conn, version)
    except sqlite3.DatabaseError as err:
        raise _read_error(path, err) from None
    finally:
        conn.close()


def read_runs(path: str | Path | None, status: str | None = "done", dataset: str | None = None) -> pd.DataFrame:
    """The ``runs()`` DataFrame of the store at ``path``, opened read-only; empty (same columns) if missing."""
    filters = {"status": status, "dataset": dataset}
    return _read(path, lambda conn, _: frame(_select(conn, filters, skip_none=True)), frame([]))


def read_calibrations(path: str | Path | None) -> list[Calibration]:
    """The calibrations recorded in the store at ``path`` (read-only; none before schema v5)."""
    return _read(path, lambda conn, version: _calibrations(conn) if version >= CALIBRATIONS_SINCE else [], [])


def read_controls(path: str | Path | None) -> list[dict]:
    """The capacity-matched controls the store's studies planned (``CapacityMatch.to_dict`` with the
    dataset and recipe hash), each (variant, dataset, recipe) once."""
    controls = {}
    for study in read_studies(path):
        for control in study.design.get("controls", []):
            controls[(control["variant"], control["dataset"], control["recipe_hash"])] = control
    return list(controls.values())


def read_studies(path: str | Path | None) -> list[Study]:
    """The studies recorded in the store at ``path`` (read-only; none before schema v4)."""
    return _read(path, lambda conn, version: _studies(conn) if version >= STUDIES_SINCE else [], [])


def _read_error(path: Path, err: sqlite3.DatabaseError) -> StoreError:
    return _corrupt(path) if "not a database" in str(err) or "malformed" in str(err) else _unreadable(path, err)


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection. A WAL store needs its ``-shm`` file, which a read-only medium (a
    read-only mount, a folder this user cannot write) cannot hold; there nothing can write the store
    either, so it is opened immutable, unless a ``-wal`` file holds commits that would be skipped."""
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
    try:
        conn.execute("PRAGMA schema_version")  # opens the file and its -shm
        return conn
    except sqlite3.OperationalError as err:
        conn.close()
        if os.access(path.parent, os.W_OK) or "unable to open" not in str(err):
            raise
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise StoreError(
            f"the store {path} is on a read-only medium and its last commits are still in {wal.name}; "
            "copy the store's folder to a writable place and read it there"
        )
    return sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)


def _git_commit() -> str | None:
    """HEAD of the git checkout that holds the ``suite`` package, "-dirty" if it has uncommitted changes."""
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10, check=True)
        return done.stdout.strip()

    try:
        if Path(git("rev-parse", "--show-toplevel")).resolve() != root:
            return None  # suite is installed inside some other repository, not checked out
        commit = git("rev-parse", "HEAD")
        return commit + ("-dirty" if git("status", "--porcelain") else "")
    except (OSError, subprocess.SubprocessError):
        return None


def provenance(command: list[str] | None = None) -> dict:
    """Where a number came from: package versions, CUDA / cuDNN, device, git commit, command line, host."""
    import torch

    from suite.device import host_device_name

    versions: dict[str, str | None] = {"suite": __version__, "python": platform.python_version()}
    for label, distribution in _VERSIONED_PACKAGES.items():
        try:
            versions[label] = importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            versions[label] = None
    return {
        "versions": versions,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "device_name": host_device_name(),
        "git_commit": _git_commit(),
        "command": shlex.join(sys.argv if command is None else command),
        "host": socket.gethostname(),
        "platform": platform.platform(),
    }

