#!/usr/bin/env python3
"""Synthetic portfolios for benchmarks: real initiatives plus perturbed copies (deterministic).

    python benchmarks/synth.py 100000 build/bench/synth-100k.csv [--seed 7]

The first rows are the real records of the shared `initiatives.csv` (15,137 rows), in file order;
every further row copies a random real record and perturbs it: word dropout, adjacent-word swaps,
a few synonym substitutions, an optional framing phrase, a new id, and (half the time) another
department and owner -- so the synthetic portfolio holds cross-department near-duplicates like the
real one. The CSV has the canonical columns (no mapping needed).

`synth_vectors` makes the matching embeddings without running a model: the vector of the real
record the row was copied from, plus Gaussian noise of a random size, renormalised (cosine to the
base vector 0.70-0.96). Benchmarks use it where embedding a million texts would take hours; the
index build, storage and search costs depend on the vectors' count, width and spread, not on how
they were produced.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from dedupe.records import CANONICAL_FIELDS

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"
INITIATIVES = SHARED / "initiatives" / "initiatives.csv"

COLUMNS = [*CANONICAL_FIELDS, "url", "source"]
_FROM_SHARED = {"owner_email": "owner_contact", "start_date": "date"}

SYNONYMS = {
    "system": "platform",
    "platform": "system",
    "modernization": "renewal",
    "modernize": "renew",
    "implement": "deploy",
    "replace": "upgrade",
    "management": "administration",
    "data": "information",
    "online": "digital",
    "digital": "online",
    "project": "initiative",
    "service": "programme",
    "services": "programmes",
    "application": "tool",
    "new": "updated",
    "support": "assist",
    "improve": "enhance",
    "develop": "build",
    "software": "solution",
    "tracking": "monitoring",
    "employees": "staff",
    "client": "customer",
    "clients": "customers",
    "enterprise": "department-wide",
    "infrastructure": "backbone",
    "canadians": "citizens",
}
FRAMES = ("Phase 2: ", "Pilot - ", "Renewal of ", "Regional rollout: ", "")
SUFFIXES = (
    " The work reuses existing tools where possible.",
    " Delivered in stages over two years.",
    " Includes training for staff.",
    " Funding is from the department's IT budget.",
    "",
)


def load_real(path: Path = INITIATIVES) -> pd.DataFrame:
    """The shared initiatives as canonical columns (strings, '' for missing)."""
    if not path.exists():
        sys.exit(f"{path}: shared data not found (benchmarks read ../shared/data)")
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    return pd.DataFrame({c: raw[_FROM_SHARED.get(c, c)] for c in COLUMNS})


def _perturb(text: str, rng: np.random.Generator) -> str:
    words = text.split()
    if len(words) < 3:
        return text
    keep = rng.random(len(words)) > rng.uniform(0.0, 0.15)
    keep[0] = True
    words = [w for w, k in zip(words, keep, strict=True) if k]
    for _ in range(int(rng.integers(0, 3))):
        if len(words) > 2:
            i = int(rng.integers(0, len(words) - 1))
            words[i], words[i + 1] = words[i + 1], words[i]
    out = []
    for w in words:
        sub = SYNONYMS.get(w.lower())
        out.append(sub if sub is not None and rng.random() < 0.5 else w)
    return " ".join(out)


def iter_synthetic(
    real: pd.DataFrame, n: int, seed: int = 7
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (base row, record) for n records: the real rows first, then perturbed copies."""
    rng = np.random.default_rng(seed)
    rows = real.to_dict(orient="records")
    depts = real[["department", "owner_name", "owner_email"]].drop_duplicates("department")
    dept_rows = depts.to_dict(orient="records")
    for i in range(min(n, len(rows))):
        yield i, rows[i]
    for i in range(len(rows), n):
        b = int(rng.integers(0, len(rows)))
        rec = dict(rows[b])
        rec["id"] = f"syn-{i:07d}"
        rec["title"] = FRAMES[int(rng.integers(0, len(FRAMES)))] + _perturb(rec["title"], rng)
        rec["description"] = (
            _perturb(rec["description"], rng) + SUFFIXES[int(rng.integers(0, len(SUFFIXES)))]
        )
        if rng.random() < 0.5:
            other = dept_rows[int(rng.integers(0, len(dept_rows)))]
            rec.update(other)
        yield b, rec


def generate(
    n: int, seed: int = 7, real: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, np.ndarray]:
    """(portfolio frame with canonical columns, base row of each record); same seed, same output."""
    real = load_real() if real is None else real
    bases, recs = [], []
    for b, rec in iter_synthetic(real, n, seed):
        bases.append(b)
        recs.append(rec)
    return pd.DataFrame(recs, columns=COLUMNS), np.asarray(bases, dtype=np.int64)


def write_csv(n: int, out: Path, seed: int = 7, chunk: int = 50_000) -> np.ndarray:
    """Stream n synthetic records to a CSV (bounded memory); returns the base rows."""
    real = load_real()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    bases = np.empty(n, dtype=np.int64)
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        buf = []
        for i, (b, rec) in enumerate(iter_synthetic(real, n, seed)):
            bases[i] = b
            buf.append(rec)
            if len(buf) >= chunk:
                writer.writerows(buf)
                buf = []
        writer.writerows(buf)
    tmp.replace(out)
    return bases


def synth_vectors(
    base_vectors: np.ndarray,
    bases: np.ndarray,
    seed: int = 7,
    chunk: int = 100_000,
    dtype: type = np.float32,
) -> np.ndarray:
    """Vectors for a synthetic portfolio: rows < len(base_vectors) are the real ones, the others
    their base's vector plus noise (relative size 0.3-1.0), unit rows. Built in chunks."""
    n_real, dim = base_vectors.shape
    rng = np.random.default_rng(seed + 1)
    out = np.empty((len(bases), dim), dtype=dtype)
    for start in range(0, len(bases), chunk):
        b = bases[start : start + chunk]
        v = np.asarray(base_vectors[b], dtype=np.float32).copy()
        synth = np.arange(start, start + len(b)) >= n_real
        m = int(synth.sum())
        if m:
            scale = rng.uniform(0.3, 1.0, size=(m, 1)).astype(np.float32) / np.sqrt(dim)
            v[synth] += rng.standard_normal((m, dim), dtype=np.float32) * scale
        v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
        out[start : start + len(b)] = v
    return out


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("n", type=int)
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    write_csv(args.n, args.out, args.seed)
    print(f"wrote {args.n} records to {args.out}")


if __name__ == "__main__":
    main()
