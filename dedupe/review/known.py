"""Decisions as plain data for the rest of the pipeline: check, report, calibration, export.

`match/` never imports `review/`: these functions turn the store's decisions into mappings and
rows that the detector, the report builder and the quality helper take as arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from dedupe.detector import Detector
from dedupe.review.store import DB_NAME, ReviewStore, open_store


def current_hashes(detector: Detector) -> dict[str, str]:
    """{initiative id: text hash} of the index as it is now."""
    frame = detector.index.frame
    return dict(zip(frame["id"].astype(str), frame["text_hash"].astype(str), strict=True))


def review_db_exists(index: str | Path, db_url: str | None = None) -> bool:
    return db_url is not None or (Path(index) / DB_NAME).exists()


def known_decisions(detector: Detector, *, db_url: str | None = None) -> dict[tuple[str, str], str]:
    """{pair key: "overlap by alice"} for pairs decided on their current texts.

    Reads `db_url`, or the `review.db` next to the detector's index; with neither, nothing is
    decided (and no database is created). Pass the result to `Detector.check(decisions=...)` or
    to the report builder's `decided` parameter.
    """
    if not review_db_exists(detector.path, db_url):
        return {}
    store = open_store(db_url, index=detector.path, create=False)
    try:
        return store.decided_keys(current_hashes(detector))
    finally:
        store.close()


def labelled_pairs(detector: Detector, *, db_url: str | None = None) -> list[tuple[str, str, str]]:
    """(id_a, id_b, duplicate|overlap|not_related) rows to calibrate the thresholds on."""
    if not review_db_exists(detector.path, db_url):
        return []
    store = open_store(db_url, index=detector.path, create=False)
    try:
        return store.decisions_as_labelled_pairs(current_hashes(detector))
    finally:
        store.close()


EXPORT_COLUMNS = (
    "id",
    "id_a",
    "id_b",
    "verdict",
    "comment",
    "user",
    "created_at",
    "score",
    "model_id",
    "text_hash_a",
    "text_hash_b",
    "revokes_id",
)


def decisions_frame(store: ReviewStore) -> pd.DataFrame:
    """The whole audit trail as a table (one row per decision or revocation), oldest first."""
    rows: list[Mapping[str, object]] = [d.to_json() for d in store.all_decisions()]
    frame = pd.DataFrame(rows, columns=list(EXPORT_COLUMNS))
    # An id, not a measurement: nullable integers, so a missing one does not make it 1.0.
    frame["revokes_id"] = frame["revokes_id"].astype("Int64")
    return frame
