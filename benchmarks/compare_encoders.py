#!/usr/bin/env python3
"""Raw-cosine AP per pair type for one encoder on the shipped held-out sample and the trap pairs.

Usage: python benchmarks/compare_encoders.py use|minilm   (embeddings cached in build/idx_<enc>/)
"""

import sys

import numpy as np
import pandas as pd

sys.path.insert(0, ".")
from pathlib import Path

from sklearn.metrics import average_precision_score

from dedupe.embed.cache import EmbeddingCache, embed_with_cache
from dedupe.embed.encoder import get_encoder
from dedupe.text import normalize_text

enc = get_encoder(sys.argv[1])
cache = EmbeddingCache(Path(f"build/idx_{sys.argv[1]}/embeddings.sqlite"))
rows = []
for name, path in (
    ("gov_pairs holdout sample", "tests/data/gov_pairs_sample.csv"),
    ("trap pairs", "tests/data/traps/pairs.csv"),
):
    f = pd.read_csv(path, dtype=str, keep_default_na=False)

    def side(s, f=f):
        return [
            f"{normalize_text(t)}. {normalize_text(d)}"
            for t, d in zip(f[f"title_{s}"], f[f"text_{s}"], strict=True)
        ]

    va, _ = embed_with_cache(enc, side("a"), cache)
    vb, _ = embed_with_cache(enc, side("b"), cache)
    cos = np.sum(va * vb, axis=1)
    y = f["label"].astype(int).to_numpy()
    f["cos"] = cos
    for key, g in [("ALL", f), *f.groupby("pair_type")]:
        yy = g["label"].astype(int)
        if 0 < yy.sum() < len(yy):
            rows.append((name, key, len(g), round(average_precision_score(yy, g["cos"]), 4)))
print(
    pd.DataFrame(rows, columns=["set", "pair_type", "n", f"AP raw cosine {sys.argv[1]}"]).to_string(
        index=False
    )
)
