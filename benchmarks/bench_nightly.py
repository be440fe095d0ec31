#!/usr/bin/env python3
"""Benchmark 3: the nightly re-run with 1% of records changed vs the full run.

Portfolio: the first N real initiatives (default 3,000; BIG=1: all 15,137), default encoder.
- full run: `Detector.ingest` into an empty index (every text embedded), then `pairs()`;
- nightly: the same export with 1% of the descriptions edited, re-ingested into that index
  (only changed texts are embedded: the cache and the vector reuse by text hash), then `pairs()`.
Ratios are given for ingest alone and for ingest + pairs.

    python benchmarks/bench_nightly.py [-n 3000]
"""

from __future__ import annotations

import argparse
import shutil

from _common import BUILD, big, report, timed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=15_137 if big() else 3000)
    args = ap.parse_args()

    import numpy as np
    from synth import load_real

    from dedupe import Detector

    real = load_real().head(args.n).copy()
    work = BUILD / f"nightly-{args.n}"
    shutil.rmtree(work, ignore_errors=True)
    (work / "day1").mkdir(parents=True)
    (work / "day2").mkdir(parents=True)
    real.to_csv(work / "day1" / "portfolio.csv", index=False)
    rng = np.random.default_rng(5)
    changed = rng.choice(len(real), size=max(1, len(real) // 100), replace=False)
    col = real.columns.get_loc("description")
    titles = real["title"].tolist()
    for n, i in enumerate(changed):  # a distinct edit each (a repeated one is boilerplate)
        extra = f" Revision {n}: now also covers {titles[(int(i) + 7) % len(titles)].lower()}."
        real.iat[int(i), col] = str(real.iat[int(i), col]) + extra
    real.to_csv(work / "day2" / "portfolio.csv", index=False)
    index = work / "index"

    with timed() as t_full:
        s1 = Detector.ingest(index, [work / "day1" / "portfolio.csv"])
    with timed() as t_full_pairs:
        p1 = Detector.open(index).pairs()
    print(
        f"full: ingest {t_full[0]:.1f}s ({s1.embedded} embedded), pairs {t_full_pairs[0]:.1f}s "
        f"({len(p1)} flagged)",
        flush=True,
    )
    with timed() as t_inc:
        s2 = Detector.ingest(index, [work / "day2" / "portfolio.csv"])
    with timed() as t_inc_pairs:
        p2 = Detector.open(index).pairs()
    print(
        f"nightly: ingest {t_inc[0]:.1f}s ({s2.updated} updated, {s2.embedded} embedded), "
        f"pairs {t_inc_pairs[0]:.1f}s ({len(p2)} flagged)",
        flush=True,
    )
    r_ing = t_inc[0] / t_full[0]
    full, inc = t_full[0] + t_full_pairs[0], t_inc[0] + t_inc_pairs[0]
    rows = [
        {
            "metric": f"nightly ingest s (1% of {args.n} changed)",
            "value": round(t_inc[0], 2),
            "baseline": round(t_full[0], 2),
            "ratio": round(r_ing, 4),
            "target": "<=0.05",
            "ok": r_ing <= 0.05,
            "embedded": s2.embedded,
            "full_embedded": s1.embedded,
        },
        {
            "metric": "nightly ingest + pairs() s",
            "value": round(inc, 2),
            "baseline": round(full, 2),
            "ratio": round(inc / full, 4),
            "target": "<=0.05",
            "ok": inc / full <= 0.05,
            "pairs_s": round(t_inc_pairs[0], 2),
            "full_pairs_s": round(t_full_pairs[0], 2),
        },
    ]
    report("nightly", rows, {"n": args.n})
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
