"""Fingerprint of a dataset's files: what the decoded cache is keyed by.

SHA-256 over every file the reader reads: its path relative to the data root, its size and the SHA-256
of its content. Content hashing is the safe choice (a file rewritten with the same size and time is
still noticed), but reading 15 MB of JPEGs would cost as much as a warm load itself, so each file's
content hash is remembered by its stat signature (path, size, mtime, ctime, inode) in a process-level
dict and in ``<cache>/decoded/<name>/file-hashes.json``. Every write to a file changes its ctime, and no
program can set a ctime back, so a remembered hash is reused only for a file nobody has written since.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from suite.datasets._paths import write_atomically
from suite.datasets._scan import Scan

_KNOWN: dict[str, list] = {}  # path -> [size, mtime_ns, ctime_ns, inode, sha256]
_MEMO_PATHS: dict[Path, set[str]] = {}  # memo file -> the paths it holds (once merged into _KNOWN)


def _signature(stat: os.stat_result) -> list[int]:
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]


def _merge(memo: Path) -> None:
    if memo in _MEMO_PATHS:
        return
    try:
        stored = json.loads(memo.read_text())
    except (OSError, ValueError):
        stored = {}  # no memo yet, or an unreadable one: the files are hashed again
    stored = stored if isinstance(stored, dict) else {}
    for path, entry in stored.items():
        _KNOWN.setdefault(path, entry)
    _MEMO_PATHS[memo] = set(stored)


def forget() -> None:
    """Drop the process-level memo (as a new process starts); the memo files stay."""
    _KNOWN.clear()
    _MEMO_PATHS.clear()


def fingerprint(scan: Scan, memo: Path | None = None) -> str:
    """SHA-256 over (relative path, size, content SHA-256) of the scan's files, reader version first."""
    if memo is not None:
        _merge(memo)
    digest = hashlib.sha256(f"reader {scan.version}\n".encode())
    base = str(scan.root if scan.root.is_dir() else scan.root.parent) + os.sep
    hashed: dict[str, list] = {}
    for path in sorted(scan.files):
        text = str(path)
        stat = path.stat()
        known = _KNOWN.get(text)
        if known is None or known[:4] != _signature(stat):
            with path.open("rb") as handle:
                known = _signature(stat) + [hashlib.file_digest(handle, "sha256").hexdigest()]
            _KNOWN[text] = hashed[text] = known
        relative = text[len(base) :].replace(os.sep, "/") if text.startswith(base) else path.name
        digest.update(f"{relative}\0{stat.st_size}\0{known[4]}\n".encode())
    if memo is not None and hashed:
        paths = _MEMO_PATHS[memo] = _MEMO_PATHS[memo] | set(hashed)
        entries = {text: _KNOWN[text] for text in sorted(paths) if text in _KNOWN}
        write_atomically(memo, json.dumps(entries, separators=(",", ":")).encode())
    return digest.hexdigest()
