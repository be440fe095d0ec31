"""Rows that could not be indexed, written with the reason so nothing is lost."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from dedupe.csvsafe import write_csv
from dedupe.records import RowProblem

QUARANTINE_GLOB = "quarantine*.csv"


def quarantine_frame(problems: Sequence[RowProblem]) -> pd.DataFrame:
    """The source columns of each bad row, then `file, row, column, reason`."""
    value_cols: list[str] = []
    for p in problems:
        for col in p.values:
            if col not in value_cols:
                value_cols.append(col)
    rows = [
        {
            **{c: _printable(p.values.get(c, "")) for c in value_cols},
            "file": _printable(p.file),
            "row": p.row,
            "column": p.column,
            "reason": _printable(p.reason),
        }
        for p in problems
    ]
    return pd.DataFrame(rows, columns=[*value_cols, "file", "row", "column", "reason"])


def write_quarantine(problems: Sequence[RowProblem], directory: str | Path) -> Path | None:
    """Write `quarantine-<UTC time>.csv` in `directory`; None when there is nothing to write."""
    if not problems:
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = Path(directory) / f"quarantine-{stamp}.csv"
    return write_csv(quarantine_frame(problems), path)


def _printable(value: object) -> object:
    """Lone surrogates (undecodable bytes) cannot be stored in a (pyarrow) string column nor
    written as UTF-8: show them as U+FFFD, before the frame is built."""
    return value.encode("utf-8", "replace").decode("utf-8") if isinstance(value, str) else value
