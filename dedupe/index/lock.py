"""The write lock of an index directory: one writer at a time (ingest, report, calibrate)."""

from __future__ import annotations

from pathlib import Path

from filelock import FileLock

from dedupe.errors import UsageError

LOCK_NAME = ".lock"


def index_lock(path: str | Path, timeout: float = 0) -> FileLock:
    """The write lock of an index directory; `acquire` raises `filelock.Timeout` when held."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{path}: a file, not an index folder (give --index a folder)")
    path.mkdir(parents=True, exist_ok=True)
    return FileLock(str(path / LOCK_NAME), timeout=timeout)
