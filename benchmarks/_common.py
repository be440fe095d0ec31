"""Shared helpers for the benchmarks: timing, machine load, the table + JSON-line report."""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BUILD = REPO / "build" / "bench"
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def load() -> str:
    """The 1/5/15-minute load averages (the CPU is shared: read figures against them)."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


@contextmanager
def timed() -> Iterator[list[float]]:
    box: list[float] = []
    t = time.perf_counter()
    try:
        yield box
    finally:
        box.append(time.perf_counter() - t)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(name: str, rows: list[dict[str, Any]], extra: dict[str, Any] | None = None) -> None:
    """Print a table (metric, value, baseline, ratio, target, ok) and one JSON line."""
    print(f"\n== {name}  (load avg {load()}, {os.cpu_count()} cores)")
    head = f"{'metric':44} {'value':>12} {'baseline':>12} {'ratio':>8} {'target':>10}  ok"
    print(head)
    print("-" * len(head))
    for r in rows:
        ratio = r.get("ratio")
        print(f"{r['metric']:44} {_fmt(r.get('value'))} {_fmt(r.get('baseline'))} "
              f"{'' if ratio is None else f'{ratio:8.3f}':>8} {str(r.get('target', '')):>10}  "
              f"{'' if r.get('ok') is None else ('yes' if r['ok'] else 'NO')}")
    print("BENCH " + json.dumps({"bench": name, "load": load(), "rows": rows, **(extra or {})}))
    sys.stdout.flush()


def _fmt(v: Any) -> str:
    if v is None:
        return f"{'':>12}"
    if isinstance(v, float):
        return f"{v:12.4g}"
    return f"{v!s:>12}"


REAL_CSV = BUILD / "real15k.csv"
REAL_INDEX = BUILD / "idx-real15k"


def real_index() -> Path:
    """The real 15k portfolio indexed with the default encoder (built once, reused)."""
    from dedupe import Detector
    from synth import load_real, write_csv

    if not (REAL_INDEX / "manifest.json").exists():
        write_csv(len(load_real()), REAL_CSV)
        Detector.ingest(REAL_INDEX, [REAL_CSV])
    return REAL_INDEX


def real_vectors() -> Any:
    import numpy as np

    from dedupe.index.store import PortfolioIndex

    return np.asarray(PortfolioIndex.open(real_index()).vectors, dtype=np.float32)
