#!/usr/bin/env python3
"""Benchmark 2: the all-pairs overlap stage vs sentence-transformers' paraphrase_mining.

Both get the same embeddings (real 15k: the default encoder's vectors of the shared portfolio;
synthetic 100k: `synth.synth_vectors` around them) and the same k nearest neighbours per record.
Ours: `dedupe.index.allpairs.candidate_pairs` (exact FAISS below 10k records, above a clustered
search with soft assignment and int8 block products; see that module). Recall: share of
paraphrase_mining's pairs at cosine >= 0.5 / 0.7 that ours also returns.

    python benchmarks/bench_allpairs.py [--full]   (--full adds 300k synthetic)
"""

from __future__ import annotations

import argparse

from _common import real_vectors, report, timed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--full", action="store_true")
    ap.add_argument("-k", type=int, default=10)
    args = ap.parse_args()

    import numpy as np
    import torch
    from sentence_transformers.util import paraphrase_mining_embeddings
    from synth import generate

    from dedupe.index.allpairs import candidate_pairs

    torch.set_num_threads(2)
    real = real_vectors()
    sets = [("real-15k", real)]
    sizes = [100_000] + ([300_000] if args.full else [])
    for n in sizes:
        _, bases = generate(n)
        from synth import synth_vectors

        sets.append((f"synth-{n // 1000}k", synth_vectors(real, bases)))
    rows = []
    for name, vec in sets:
        with timed() as t_base:
            mined = paraphrase_mining_embeddings(
                torch.from_numpy(vec),
                top_k=args.k,
                max_pairs=10**9,
                query_chunk_size=5000,
                corpus_chunk_size=100_000,
            )
        with timed() as t_ours:
            a, b, s = candidate_pairs(vec, args.k)
        ours = set(zip(a.tolist(), b.tolist(), strict=True))
        recall = {}
        for tau in (0.5, 0.7):
            truth = [(min(i, j), max(i, j)) for sc, i, j in mined if sc >= tau]
            recall[tau] = sum(p in ours for p in truth) / max(1, len(truth))
        ratio = t_ours[0] / t_base[0]
        rows.append(
            {
                "metric": f"{name} all-pairs kNN s (k={args.k})",
                "value": round(t_ours[0], 2),
                "baseline": round(t_base[0], 2),
                "ratio": round(ratio, 3),
                "target": "<=0.2",
                "ok": ratio <= 0.2,
                "n": len(vec),
                "pairs": len(ours),
                "baseline_pairs": len(mined),
                "recall_cos>=0.5": round(recall[0.5], 4),
                "recall_cos>=0.7": round(recall[0.7], 4),
            }
        )
        print(
            f"{name}: ours {t_ours[0]:.2f}s, paraphrase_mining {t_base[0]:.2f}s, "
            f"recall@0.5 {recall[0.5]:.4f} @0.7 {recall[0.7]:.4f}",
            flush=True,
        )
        del mined
        _ = np
    report("allpairs", rows)


if __name__ == "__main__":
    main()
