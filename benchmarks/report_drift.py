#!/usr/bin/env python3
"""How far a pair's score moves from one nightly run to the next when neither text changed.

The nightly report keeps a previously flagged pair whose two texts are unchanged down to
`dedupe.report.carry.KEEP_MARGIN` under the flag bar: new and edited records move the
portfolio's term weights (idf), boilerplate and acronyms a little each night, and a pair at the
bar should not be reported new, gone and new again. This measures that drift on the shipped
sample portfolio (data/sample, 2,860 records, default encoder):

- the sample is ingested and its flagged pairs scored (`Detector.pairs`);
- each scenario re-ingests a copy of that index with some descriptions edited (a sentence
  appended) and/or records added from ../shared/data/initiatives/initiatives.csv, and re-scores
  every flagged pair whose two records are unchanged (`dedupe.report.carry.score_rows`).

Prints, per scenario, the largest and 99th-percentile score change of those pairs, how many
crossed the bar either way, and how many flagged pairs fell more than `KEEP_MARGIN` under it (the
report would call them no longer flagged).

    python benchmarks/report_drift.py [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from _common import REPO

SCENARIOS = (  # (name, share of descriptions edited, share of records added)
    ("1% edited", 0.01, 0.0),
    ("1% edited + 1% new", 0.01, 0.01),
    ("10% new", 0.0, 0.10),
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=str(REPO.parent / "shared" / "data"))
    args = ap.parse_args()

    from dedupe import Detector
    from dedupe.report.carry import KEEP_MARGIN, score_rows

    sample = REPO / "data" / "sample"
    src = pd.read_csv(sample / "initiatives_sample.csv", dtype=str, keep_default_na=False)
    pool = pd.read_csv(
        Path(args.shared) / "initiatives" / "initiatives.csv", dtype=str, keep_default_na=False
    )
    pool = pool[~pool["id"].isin(src["id"])].reindex(columns=src.columns, fill_value="")
    mapping = sample / "mapping.toml"
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)

        def ingest(frame: pd.DataFrame, where: Path) -> Detector:
            path = work / "initiatives_sample.csv"  # the sample's source name
            frame.to_csv(path, index=False)
            Detector.ingest(where, [path], mapping=mapping, source="initiatives_sample")
            return Detector.open(where)

        det = ingest(src, work / "base")
        bar = det.params.overlap_at
        before = {(p.id_a, p.id_b): p.score for p in det.pairs()}
        print(f"{len(src)} records, {len(before)} flagged pairs, bar {bar:.4f}")
        print(
            f"{'scenario':<22} {'pairs':>6} {'max |drift|':>12} {'p99':>8} {'crossed':>8} "
            f"{'dropped':>8}"
        )
        for k, (name, edited, added) in enumerate(SCENARIOS):
            frame = src.copy()
            rows = rng.choice(len(frame), int(edited * len(frame)), replace=False)
            frame.loc[rows, "description"] += " Scope was revised this quarter."
            new = pool.sample(int(added * len(src)), random_state=3 + k)
            where = work / f"s{k}"
            shutil.copytree(work / "base", where)
            night = ingest(pd.concat([frame, new], ignore_index=True), where)
            at = {rid: i for i, rid in enumerate(night.column("id"))}
            changed = set(frame.loc[rows, "id"])
            kept = [p for p in before if not changed & set(p)]
            tonight, _ = score_rows(night, [(at[a], at[b]) for a, b in kept])
            old = np.array([before[p] for p in kept])
            drift = np.abs(tonight - old)
            crossed = int(((old >= bar) != (tonight >= bar)).sum())
            dropped = int(((old >= bar) & (tonight < bar - KEEP_MARGIN)).sum())
            print(
                f"{name:<22} {len(kept):>6} {drift.max():>12.4f} "
                f"{np.quantile(drift, 0.99):>8.4f} {crossed:>8} {dropped:>8}"
            )
        print(f"KEEP_MARGIN = {KEEP_MARGIN}")


if __name__ == "__main__":
    main()
