#!/usr/bin/env python3
"""Recall of the approximate / compressed index kinds against exact search (flat float32).

Vectors: the synthetic portfolio's (`synth.synth_vectors`, real USE vectors + noise), default
100k (BIG=1: 1M, without HNSW). Queries: 500 records' vectors with fresh noise (a proposal close
to existing work). Recall@10 = share of the exact top 10 that the kind returns. Also: build
time, size, and single-query latency (p50); float16 storage is checked by searching the
float16-rounded vectors exactly.

    python benchmarks/bench_index.py [-n 100000]
"""

from __future__ import annotations

import argparse
import time

from _common import big, real_vectors, report, timed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=1_000_000 if big() else 100_000)
    ap.add_argument("-k", type=int, default=10)
    args = ap.parse_args()

    import faiss
    import numpy as np
    from synth import generate, synth_vectors

    from dedupe.index.store import IndexKind, build_faiss, set_search_params

    faiss.omp_set_num_threads(2)
    real = real_vectors()
    _, bases = generate(args.n)
    vec = synth_vectors(real, bases)
    rng = np.random.default_rng(9)
    qi = rng.choice(args.n, 500, replace=False)
    q = (
        np.asarray(vec[qi], dtype=np.float32)
        + rng.standard_normal((500, vec.shape[1]), dtype=np.float32) * 0.02
    )
    q /= np.linalg.norm(q, axis=1, keepdims=True)

    exact = faiss.IndexFlatIP(vec.shape[1])
    for s in range(0, args.n, 65536):
        exact.add(np.asarray(vec[s : s + 65536], dtype=np.float32))
    _, truth = exact.search(q, args.k)
    lat_exact = _latency(exact, q, args.k)
    rows = [
        {
            "metric": f"flat float32 (exact) p50 query ms, {args.n // 1000}k",
            "value": round(lat_exact * 1000, 2),
        }
    ]
    kinds = [IndexKind.SQ8, IndexKind.IVF_SQ8] + ([IndexKind.HNSW] if args.n <= 300_000 else [])
    for kind in kinds:
        with timed() as t:
            index, _ = build_faiss(vec, kind)
        set_search_params(index)
        _, got = index.search(q, args.k)
        recall = np.mean([len(set(a) & set(b)) / args.k for a, b in zip(truth, got, strict=True)])
        lat = _latency(index, q, args.k)
        size = faiss.serialize_index(index).nbytes / 2**20
        rows.append(
            {
                "metric": f"{kind.value} recall@{args.k}",
                "value": round(float(recall), 4),
                "baseline": 1.0,
                "ratio": round(float(recall), 4),
                "build_s": round(t[0], 1),
                "size_mb": round(size, 1),
                "p50_ms": round(lat * 1000, 2),
                "p50_ratio_vs_exact": round(lat / lat_exact, 3),
            }
        )
        print(
            f"{kind.value}: recall {recall:.4f}, build {t[0]:.1f}s, {size:.0f} MB, "
            f"p50 {lat * 1000:.2f} ms (exact {lat_exact * 1000:.2f})",
            flush=True,
        )
        del index
    half = faiss.IndexFlatIP(vec.shape[1])
    for s in range(0, args.n, 65536):
        half.add(vec[s : s + 65536].astype(np.float16).astype(np.float32))
    _, got = half.search(q, args.k)
    recall = np.mean([len(set(a) & set(b)) / args.k for a, b in zip(truth, got, strict=True)])
    rows.append(
        {
            "metric": f"float16 vector storage recall@{args.k}",
            "value": round(float(recall), 4),
            "baseline": 1.0,
            "ratio": round(float(recall), 4),
        }
    )
    report("index", rows, {"n": args.n})


def _latency(index: object, q: object, k: int) -> float:
    times = []
    for i in range(min(200, len(q))):  # type: ignore[arg-type]
        t = time.perf_counter()
        index.search(q[i : i + 1], k)  # type: ignore[attr-defined,index]
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]


if __name__ == "__main__":
    main()
