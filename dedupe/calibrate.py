"""`calibrate`: refit the pair scorer of an index from labelled pairs (a CSV or review decisions).

Labelled pairs are (id_a, id_b, label) with both ids in the index and label duplicate / overlap
(positive) or unrelated / not_related (negative), or 1/0. Review decisions reach this module as
data (an iterable of such tuples), never through the review package.

With few labels a full refit would be noise, so below `FULL_REFIT_FROM` labelled pairs only the
scale and offset of the current model's log-odds are refitted (Platt recalibration: the ranking is
kept, the probabilities and the flag threshold move); from that many on, every weight is refitted.
The new parameters are versioned and written into the index manifest in one atomic rewrite.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from filelock import Timeout

from dedupe.detector import Detector
from dedupe.errors import CalibrationError, IndexLockedError
from dedupe.evaluate import label_value
from dedupe.index.lock import LOCK_NAME, index_lock
from dedupe.index.manifest import read_manifest, write_manifest
from dedupe.ingest.readers import read_table
from dedupe.match.scoring import ScorerParams, fit_params

FULL_REFIT_FROM = 200
LabelledPair = tuple[str, str, object]


@dataclass(frozen=True)
class CalibrationResult:
    params: ScorerParams
    previous_version: str
    mode: str  # "platt" (scale/offset only) or "full"
    n_positive: int
    n_negative: int
    skipped: int  # pairs naming an id that is not in the index


def parse_label(value: object, where: str) -> int:
    found = label_value(value)
    if found is None:
        raise CalibrationError(
            f"{where}: label {value!r} is not duplicate/overlap/unrelated (or 1/0, yes/no...)"
        )
    return found


def read_labelled_pairs(path: str | Path) -> list[LabelledPair]:
    """id_a, id_b, label rows of a CSV/XLSX/JSON file."""
    frame = read_table(path).frame
    missing = {"id_a", "id_b", "label"} - set(frame.columns)
    if missing:
        raise CalibrationError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
    for row, label in enumerate(frame["label"], start=2):  # row 1 is the header
        parse_label(label, f"{path}: row {row}, column 'label'")
    return list(zip(frame["id_a"], frame["id_b"], frame["label"], strict=True))


def labelled_features(
    detector: Detector, labelled: Iterable[LabelledPair]
) -> tuple[np.ndarray, np.ndarray, int]:
    """(features, labels, skipped) for labelled pairs of indexed records."""
    pos_of = {rid: i for i, rid in enumerate(detector.index.frame["id"])}
    a_idx, b_idx, y = [], [], []
    skipped = 0
    for n, (id_a, id_b, label) in enumerate(labelled, start=1):
        lab = parse_label(label, f"labelled pair {n} ({id_a}, {id_b})")
        ia, ib = pos_of.get(str(id_a)), pos_of.get(str(id_b))
        if ia is None or ib is None or ia == ib:
            skipped += 1
            continue
        a_idx.append(ia)
        b_idx.append(ib)
        y.append(lab)
    vectors = np.asarray(detector.index.vectors)
    rows_a, rows_b = np.asarray(a_idx, dtype=np.int64), np.asarray(b_idx, dtype=np.int64)
    raw = np.sum(vectors[rows_a] * vectors[rows_b], axis=1) if a_idx else np.zeros(0)
    dense = detector.dense_feature(raw, rows_a, rows_b)
    recs = detector.records
    x = detector.pair_features(
        [detector.record_text(i) for i in a_idx],
        [detector.record_text(j) for j in b_idx],
        [recs[i].title for i in a_idx],
        [recs[j].title for j in b_idx],
        [recs[i].department for i in a_idx],
        [recs[j].department for j in b_idx],
        dense,
        langs_a=[recs[i].language for i in a_idx],
        langs_b=[recs[j].language for j in b_idx],
    )
    return x, np.asarray(y, dtype=int), skipped


def refit(
    current: ScorerParams, x: np.ndarray, y: np.ndarray, *, version: str, trained_on: str
) -> tuple[ScorerParams, str]:
    """New parameters from labelled features: Platt rescaling when few, a full refit when many."""
    if len(y) >= FULL_REFIT_FROM:
        params = fit_params(x, y, features=current.features, version=version, trained_on=trained_on)
        # the features were computed through the current dense adapter: it stays with them
        kept = replace(params, dense_adapter=current.dense_adapter, dense_blend=current.dense_blend)
        return kept, "full"
    w = np.asarray(current.weights, dtype=np.float64)
    z = (x @ w + current.bias).reshape(-1, 1)
    platt = fit_params(z, y, features=("logit",), version=version, trained_on=trained_on, c=10.0)
    a, b = platt.weights[0], platt.bias
    params = replace(
        current,
        weights=tuple(round(float(a * v), 6) for v in w),
        bias=round(float(a * current.bias + b), 6),
        duplicate_at=platt.duplicate_at,
        overlap_at=platt.overlap_at,
        version=version,
        trained_on=trained_on,
        extra={**platt.extra, "platt_scale": a, "platt_offset": b, "base": current.version},
    )
    return params, "platt"


def calibrate(
    index: str | Path,
    labelled: Iterable[LabelledPair],
    *,
    source: str = "labelled pairs",
    lock_timeout: float = 0,
) -> CalibrationResult:
    """Refit the index's scorer from labelled pairs and save it in the manifest (versioned)."""
    path = Path(index)
    detector = Detector.open(path)
    x, y, skipped = labelled_features(detector, labelled)
    n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
    if n_pos < 5 or n_neg < 5:
        raise CalibrationError(
            f"{source}: need at least 5 positive and 5 negative pairs of indexed records, "
            f"got {n_pos} and {n_neg} ({skipped} skipped: ids not in {path})"
        )
    old = detector.params
    number = int(old.extra.get("calibration", 0)) + 1 if old.version.startswith("calibrated") else 1
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    version = f"calibrated-{number}-{stamp}"
    params, mode = refit(old, x, y, version=version, trained_on=f"{source}: {n_pos}+/{n_neg}-")
    params = replace(params, extra={**params.extra, "calibration": number})
    lock = index_lock(path, lock_timeout)
    try:
        lock.acquire()
    except Timeout:
        raise IndexLockedError(
            f"{path}: another dedupe process is writing this index (lock {path / LOCK_NAME})"
        ) from None
    try:
        manifest = read_manifest(path)
        write_manifest(path, replace(manifest, scorer=params.to_dict()))
    finally:
        lock.release()
    return CalibrationResult(params, old.version, mode, n_pos, n_neg, skipped)
