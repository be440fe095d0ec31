"""Shared helpers for the benchmarks: timing, machine load, the table + JSON-line report."""

from __future__ import annotations

import json
import os
import resource
import shutil
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
        print(
            f"{r['metric']:44} {_fmt(r.get('value'))} {_fmt(r.get('baseline'))} "
            f"{'' if ratio is None else f'{ratio:8.3f}':>8} {str(r.get('target', '')):>10}  "
            f"{'' if r.get('ok') is None else ('yes' if r['ok'] else 'NO')}"
        )
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
    from synth import load_real, write_csv

    from dedupe import Detector

    if not (REAL_INDEX / "manifest.json").exists():
        write_csv(len(load_real()), REAL_CSV)
        Detector.ingest(REAL_INDEX, [REAL_CSV])
    return REAL_INDEX


def real_vectors() -> Any:
    import numpy as np

    from dedupe.index.store import PortfolioIndex

    return np.asarray(PortfolioIndex.open(real_index()).vectors, dtype=np.float32)


def big() -> bool:
    """`make bench BIG=1` (or BIG=1 in the environment): the 100k / 1M sizes."""
    return os.environ.get("BIG", "") not in ("", "0")


class PlaceholderEncoder:
    """Random unit vectors under the default encoder's model id: ingest runs its real code path
    (validation, boilerplate, TF-IDF, cache, index build) without hours of embedding; the
    vectors are then replaced by `synth.synth_vectors` (see `synth_index`)."""

    def __init__(self, model_id: str, dim: int = 512, seed: int = 11) -> None:
        import numpy as np

        self.model_id, self.dim = model_id, dim
        self._rng = np.random.default_rng(seed)

    def encode(self, texts: Any, progress: Any = None) -> Any:
        import numpy as np

        v = self._rng.standard_normal((len(texts), self.dim), dtype=np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def use_model_id() -> str:
    from dedupe.embed.use import USEEncoder

    return USEEncoder().model_id


def synth_index(n: int, path: Path | None = None) -> Path:
    """An index of n synthetic initiatives (real records + perturbed copies) whose vectors are
    the real USE vectors of their base record plus noise. Built once, reused. The sentence
    vectors (what `check` aligns for its reasons) stay the placeholder encoder's random unit
    vectors: a reason's cost does not depend on their values."""
    import numpy as np
    from synth import load_real, write_csv

    from dedupe import Detector
    from dedupe.index.store import PortfolioIndex, write_generation

    path = path or BUILD / f"idx-synth-{n // 1000}k"
    if (path / "manifest.json").exists():
        if "sentences" in json.loads((path / "manifest.json").read_text())["files"]:
            return path
        shutil.rmtree(path)  # built before sentence vectors were part of an index
    real = load_real()
    csv_path = BUILD / f"synth-{n}.csv"
    bases = write_csv(n, csv_path)
    base_vectors = real_vectors()
    t = time.perf_counter()
    Detector.ingest(path, [csv_path], encoder=PlaceholderEncoder(use_model_id()))
    ids = list(real["id"][: min(n, len(real))]) + [f"syn-{i:07d}" for i in range(len(real), n)]
    base_of = dict(zip(ids, bases.tolist(), strict=True))
    idx = PortfolioIndex.open(path)
    frame_bases = np.asarray([base_of.get(i, 0) for i in idx.frame["id"]], dtype=np.int64)
    from synth import synth_vectors

    vectors = synth_vectors(base_vectors, frame_bases)
    man = idx.manifest
    # every file of the generation but the three this write replaces
    extra = {
        role: path / entry.name
        for role, entry in man.files.items()
        if role not in ("records", "vectors", "faiss")
    }
    del idx
    write_generation(
        path,
        frame=PortfolioIndex.open(path).frame,
        vectors=vectors,
        model_id=man.model_id,
        dim=man.dim,
        previous=man,
        scorer=man.scorer,
        extra_files=extra,
    )
    (path / "embeddings.sqlite").unlink(missing_ok=True)  # placeholder vectors: not reusable
    print(f"built {path} ({n} records) in {time.perf_counter() - t:.0f}s", flush=True)
    return path
