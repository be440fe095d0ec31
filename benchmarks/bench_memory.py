#!/usr/bin/env python3
"""Benchmark 5: peak RSS to index N synthetic initiatives (default 100k; BIG=1: 1M).

Each side is a fresh process running `Detector.ingest` on the same synthetic CSV (real records
+ perturbed copies, `synth.py`) with placeholder vectors (random, 512-d: memory depends on the
count and width of the vectors, not on their values; embedding 1M texts would take hours):
- ours: the defaults (float16 vector storage and an 8-bit IVF index from 300k records);
- baseline: float32 vectors and an exact flat float32 index at every size.
The recall cost of the compressed storage is measured by bench_index.py.

    python benchmarks/bench_memory.py [-n 100000]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys

from _common import BUILD, big, peak_rss_mb, report, timed


def child(csv: str, index: str, mode: str) -> None:
    from _common import PlaceholderEncoder, use_model_id

    import dedupe.index.store as store
    from dedupe import Detector

    model_id = use_model_id()
    if mode == "baseline":
        store.APPROX_FROM = store.HNSW_FROM = store.FLOAT16_FROM = 10**12
    before = peak_rss_mb()
    with timed() as t:
        s = Detector.ingest(index, [csv], encoder=PlaceholderEncoder(model_id))
    print(
        json.dumps(
            {
                "peak_rss_mb": peak_rss_mb(),
                "before_mb": before,
                "seconds": t[0],
                "indexed": s.indexed,
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=1_000_000 if big() else 100_000)
    ap.add_argument("--child", nargs=3, metavar=("CSV", "INDEX", "MODE"))
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    from synth import write_csv

    csv = BUILD / f"synth-{args.n}.csv"
    if not csv.exists():
        write_csv(args.n, csv)
    res = {}
    for mode in ("ours", "baseline"):
        index = BUILD / f"mem-{mode}-{args.n}"
        shutil.rmtree(index, ignore_errors=True)
        proc = subprocess.run(
            [sys.executable, __file__, "--child", str(csv), str(index), mode],
            capture_output=True,
            text=True,
        )
        if proc.returncode:
            sys.exit(f"{mode}: failed\n{proc.stderr[-3000:]}")
        res[mode] = json.loads(proc.stdout.strip().splitlines()[-1])
        disk = sum(f.stat().st_size for f in index.iterdir() if f.is_file())
        res[mode]["disk_mb"] = disk / 2**20
        print(f"{mode}: {res[mode]}", flush=True)
        shutil.rmtree(index, ignore_errors=True)
    o, b = res["ours"], res["baseline"]
    gb = o["peak_rss_mb"] / 1024
    rows = [
        {
            "metric": f"peak RSS GB, ingest {args.n // 1000}k",
            "value": round(gb, 2),
            "baseline": round(b["peak_rss_mb"] / 1024, 2),
            "ratio": round(o["peak_rss_mb"] / b["peak_rss_mb"], 3),
            "target": "<=4 GB",
            "ok": gb <= 4.0,
        },
        {
            "metric": "ingest wall s (placeholder vectors)",
            "value": round(o["seconds"], 1),
            "baseline": round(b["seconds"], 1),
            "ratio": round(o["seconds"] / b["seconds"], 3),
        },
        {
            "metric": "index size on disk MB",
            "value": round(o["disk_mb"], 1),
            "baseline": round(b["disk_mb"], 1),
            "ratio": round(o["disk_mb"] / b["disk_mb"], 3),
        },
    ]
    report("memory", rows, {"n": args.n})


if __name__ == "__main__":
    main()
