"""Versioned schema of the results store: SQL steps per version, applied in order under one lock.

The version lives in ``PRAGMA user_version``. Version ``n`` is reached from ``n - 1`` by running
``MIGRATIONS[n - 1]``; a fresh file (version 0) runs them all. Steps only add (tables, columns,
indexes), so an older store keeps every row it had.

- v1: the ``runs`` table with one column per ``RunRecord`` field of the first release, and the
  (dataset, spec) index the leaderboard reads by.
- v2: official-test metrics (``test_metrics``), the parameters a variant adds over its baseline
  (``params_added``), and the (manifest_hash, recipe_hash, fold) index that pairs runs for a verdict.
- v3: the plain baseline's latency timed interleaved with the spec's own passes (``baseline_latency_ms``),
  so the latency a module adds is a paired difference taken under one machine load.
- v4: ``studies`` (a planned grid or study: its design and the comparisons it set out to test, which are
  the Holm family of its verdicts) and the spread of the latency a module adds (``latency_spread_ms``:
  half-width of a bootstrap 95% interval; from v4 on, latencies are 10th percentiles, which resist load).
- v5: ``calibrations`` (``suite calibrate``: the A/A and placebo false-claim rates of one dataset,
  baseline, recipe, k and metric over N split seeds).
- v6: per-sample values of the last validation epoch (``per_sample``: compressed float32 arrays per
  metric) and the ids they follow (``sample_ids``: the SHA-256 of an id list kept once in the
  ``sample_ids`` table), so a variant and its baseline pair up image by image.
- v7: run claims (``claims``): the run key a driver is training, its owner (``host:pid:start-token``)
  and the lease's expiry in Unix seconds, so several processes can share one store without training a
  run twice (``suite.claims``). A row lives from the claim to the run's write (same transaction).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from suite.errors import StoreError

MIGRATIONS: list[tuple[str, ...]] = [
    (  # v0 -> v1
        """
        CREATE TABLE runs (
            key TEXT PRIMARY KEY NOT NULL,
            spec TEXT NOT NULL,
            baseline TEXT NOT NULL,
            dataset TEXT NOT NULL,
            manifest_hash TEXT NOT NULL,
            k INTEGER NOT NULL,
            fold INTEGER NOT NULL,
            split_seed INTEGER NOT NULL,
            init_seed INTEGER NOT NULL,
            order_seed INTEGER NOT NULL,
            augment_seed INTEGER NOT NULL,
            recipe TEXT NOT NULL,            -- JSON: the resolved training recipe
            recipe_hash TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
            error TEXT,
            metrics TEXT NOT NULL,           -- JSON: final validation metrics
            curves TEXT NOT NULL,            -- JSON: per-epoch curves
            n_train INTEGER NOT NULL,
            n_val INTEGER NOT NULL,
            params INTEGER,                  -- exact parameter count
            gmacs REAL,                      -- fvcore GMACs, batch 1, recipe image size
            latency_ms REAL,                 -- median forward latency, batch 1, on device
            wall_s REAL NOT NULL,            -- wall-clock seconds of the run
            device TEXT NOT NULL,
            provenance TEXT NOT NULL,        -- JSON: versions, CUDA, device name, git commit, command, host
            started_at TEXT NOT NULL,
            finished_at TEXT NOT NULL
        )
        """,
        "CREATE INDEX runs_dataset_spec ON runs (dataset, spec)",
    ),
    (  # v1 -> v2
        "ALTER TABLE runs ADD COLUMN test_metrics TEXT NOT NULL DEFAULT '{}'",  # JSON: official test split
        "ALTER TABLE runs ADD COLUMN params_added INTEGER",  # parameters over the plain baseline
        "CREATE INDEX runs_pairing ON runs (manifest_hash, recipe_hash, fold)",
    ),
    (  # v2 -> v3
        "ALTER TABLE runs ADD COLUMN baseline_latency_ms REAL",  # the baseline's, timed interleaved with this spec
    ),
    (  # v3 -> v4
        """
        CREATE TABLE studies (
            id TEXT PRIMARY KEY NOT NULL,    -- hash of kind and members: the same plan is one study
            name TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,              -- grid (later: sweep, ablation, fractions, calibration)
            design TEXT NOT NULL,            -- JSON: what was asked (variants, dataset, folds, seeds, recipe)
            members TEXT NOT NULL,           -- JSON: [[variant, dataset, manifest_hash, recipe_hash], ...]
            created_at TEXT NOT NULL
        )
        """,
        "ALTER TABLE runs ADD COLUMN latency_spread_ms REAL",  # half-width of the 95% interval of latency added
    ),
    (  # v4 -> v5
        """
        CREATE TABLE calibrations (
            id TEXT PRIMARY KEY NOT NULL,    -- hash of dataset, baseline, recipe, k, metric and split seeds
            dataset TEXT NOT NULL,
            baseline TEXT NOT NULL,
            recipe_hash TEXT NOT NULL,
            k INTEGER NOT NULL,
            metric TEXT NOT NULL,
            split_seeds TEXT NOT NULL,       -- JSON list
            arms TEXT NOT NULL,              -- JSON: arm -> {verdicts: [...], gains: [...]}, one per split seed
            created_at TEXT NOT NULL
        )
        """,
    ),
    (  # v5 -> v6
        """
        CREATE TABLE sample_ids (
            digest TEXT PRIMARY KEY NOT NULL,  -- SHA-256 of ids
            ids BLOB NOT NULL                  -- zlib-compressed JSON list of validation sample ids, in order
        )
        """,
        "ALTER TABLE runs ADD COLUMN per_sample BLOB",  # npz: float32 value per validation sample, per metric
        "ALTER TABLE runs ADD COLUMN sample_ids TEXT",  # digest of the ids those values follow
    ),
    (  # v6 -> v7
        """
        CREATE TABLE claims (
            key TEXT PRIMARY KEY NOT NULL,   -- the key of the run being trained
            owner TEXT NOT NULL,             -- host:pid:start-token of the driver training it
            claimed_at REAL NOT NULL,        -- Unix seconds
            expires_at REAL NOT NULL         -- Unix seconds; the owner renews it while it lives
        )
        """,
        "CREATE INDEX claims_owner ON claims (owner)",
    ),
]
SCHEMA_VERSION = len(MIGRATIONS)


def user_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def check_version(conn: sqlite3.Connection, path: Path) -> int:
    """The store's schema version; raises, touching nothing, if it is newer or not a suite store."""
    version = user_version(conn)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"store {path} was written by a newer suite (schema {version} > {SCHEMA_VERSION}); "
            "upgrade suite or use another --store"
        )
    if version == 0:
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        if tables:
            raise StoreError(
                f"store {path} is an SQLite database of something else (tables: {', '.join(sorted(tables))}); "
                "use another --store or SUITE_STORE"
            )
    return version


def migrate(conn: sqlite3.Connection, path: Path) -> int:
    """Bring the store to ``SCHEMA_VERSION`` in one transaction (all steps or none); returns it.

    ``conn`` must be in autocommit mode (``isolation_level=None``) so the transaction is ours.
    """
    if check_version(conn, path) == SCHEMA_VERSION:
        return SCHEMA_VERSION
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = check_version(conn, path)  # another process may have migrated while we waited
        for steps in MIGRATIONS[version:]:
            for sql in steps:
                conn.execute(sql)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return SCHEMA_VERSION
