#!/usr/bin/env python3
"""Run every benchmark (`make bench`; `make bench BIG=1` for the 100k / 1M sizes).

Each benchmark runs in its own process, one after another (they share 2 cores: never in
parallel), prints its table and one `BENCH {json}` line; the JSON lines are also collected in
build/bench/results.jsonl. Benchmarks read the shared data in ../shared/data; without it this
prints a message and exits 0.

Default sizes fit in ~30 minutes on 2 cores once build/bench/idx-real15k exists (the 15k real
initiatives embedded once with the default encoder; the first run builds it, ~10-15 min).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from _common import BUILD, REPO, big

SHARED = REPO.parent / "shared" / "data" / "initiatives" / "initiatives.csv"

SCRIPTS = [
    ["bench_embed.py"],
    ["bench_allpairs.py"],
    ["bench_index.py"],
    ["bench_check.py"],
    ["bench_nightly.py"],
    ["bench_memory.py"],
]


def main() -> None:
    if not SHARED.exists():
        print(f"{SHARED}: shared data not found; the benchmarks need ../shared/data. Skipping.")
        return
    BUILD.mkdir(parents=True, exist_ok=True)
    out = BUILD / "results.jsonl"
    here = REPO / "benchmarks"
    failed = []
    t0 = time.perf_counter()
    with open(out, "a", encoding="utf-8") as fh:
        for script in SCRIPTS:
            if big() and script[0] == "bench_allpairs.py":
                script = [*script, "--full"]
            print(f"\n### {' '.join(script)}  (BIG={int(big())})", flush=True)
            t = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, str(here / script[0]), *script[1:]],
                cwd=REPO,
                stdout=subprocess.PIPE,
                text=True,
                env=os.environ.copy(),
            )
            sys.stdout.write(proc.stdout)
            for line in proc.stdout.splitlines():
                if line.startswith("BENCH "):
                    rec = json.loads(line[6:])
                    rec["seconds"] = round(time.perf_counter() - t, 1)
                    rec["big"] = big()
                    fh.write(json.dumps(rec) + "\n")
            if proc.returncode:
                failed.append(script[0])
            print(f"### {script[0]}: {time.perf_counter() - t:.0f}s", flush=True)
    print(f"\nall benchmarks: {time.perf_counter() - t0:.0f}s; results appended to {out}")
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
