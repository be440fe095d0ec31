"""Load: 20 concurrent clients for 60 s against the review app on localhost, no errors.

A bounded loop (it stops by itself at the deadline). Each client is a signed-in reviewer with
its own session and API token, doing what reviewers and intake systems do: read the queue, open
a pair, call the JSON API, and now and then decide. Latencies are printed (run with `-s`) and
written to `$DEDUPE_LOAD_REPORT` when set. `DEDUPE_LOAD_SECONDS` shortens the run for debugging.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from .webhelpers import PASSWORD, csrf_of, pairs_on

CLIENTS = 20
SECONDS = float(os.environ.get("DEDUPE_LOAD_SECONDS", "60"))

pytestmark = pytest.mark.slow


def _client_loop(base: str, name: str, token: str, deadline: float, out: dict[str, list]) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=30, follow_redirects=True) as http:
        login = http.get("/login")
        r = http.post(
            "/login", data={"name": name, "password": PASSWORD, "csrf_token": csrf_of(login.text)}
        )
        if r.status_code != 200 or name not in r.text:
            out["errors"].append(f"{name}: sign-in {r.status_code}")
            return
        step = 0
        while time.monotonic() < deadline:
            step += 1
            t0 = time.perf_counter()
            kind = ("api_check", "queue_all", "api_pairs", "queue_pair")[step % 4]
            if step % 4 == 0:
                r = http.post(
                    "/api/check",
                    headers=auth,
                    json={
                        "title": "Online fishing licence renewal",
                        "description": "Citizens renew and pay for licences online.",
                    },
                )
            elif step % 4 == 1:
                r = http.get("/?status=all")
            elif step % 4 == 2:
                r = http.get("/api/pairs?limit=20", headers=auth)
            else:
                page = http.get("/")
                pairs = pairs_on(page.text)
                if step % 12 == 3 and pairs:  # decide, as a reviewer would
                    a, b = pairs[hash(name) % len(pairs)]
                    r = http.post(
                        "/decide",
                        data={
                            "id_a": a,
                            "id_b": b,
                            "verdict": "overlap",
                            "csrf_token": csrf_of(page.text),
                        },
                    )
                elif pairs:
                    r = http.get(f"/pairs/{pairs[0][0]}/{pairs[0][1]}")
                else:
                    r = page
            ms = (time.perf_counter() - t0) * 1000
            out["latency_ms"].append(ms)
            out["kinds"].append(kind)
            if r.status_code >= 400:
                out["errors"].append(f"{name} step {step}: {r.status_code} {r.text[:120]}")


def test_twenty_clients_for_a_minute_without_errors(live: tuple[str, object]) -> None:
    base, store = live
    tokens = {}
    for i in range(CLIENTS):
        name = f"load{i:02d}"
        store.add_user(name=name, role="reviewer", password=PASSWORD)  # type: ignore[attr-defined]
        tokens[name] = store.add_token(user=name)  # type: ignore[attr-defined]
    out: dict[str, list] = {"latency_ms": [], "errors": [], "kinds": []}
    deadline = time.monotonic() + SECONDS
    threads = [
        threading.Thread(target=_client_loop, args=(base, n, t, deadline, out))
        for n, t in tokens.items()
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(SECONDS + 60)
    assert not any(t.is_alive() for t in threads), "a client did not stop"
    lat = np.asarray(out["latency_ms"])
    report = {
        "clients": CLIENTS,
        "seconds": SECONDS,
        "requests": int(lat.size),
        "errors": len(out["errors"]),
        "requests_per_s": round(lat.size / SECONDS, 1),
        "p50_ms": round(float(np.percentile(lat, 50)), 1) if lat.size else None,
        "p99_ms": round(float(np.percentile(lat, 99)), 1) if lat.size else None,
        "decisions": len(store.all_decisions()),  # type: ignore[attr-defined]
        "p50_ms_by_kind": {
            k: round(float(np.percentile(lat[np.asarray(out["kinds"]) == k], 50)), 1)
            for k in sorted(set(out["kinds"]))
        },
    }
    print("load:", json.dumps(report))
    if os.environ.get("DEDUPE_LOAD_REPORT"):
        Path(os.environ["DEDUPE_LOAD_REPORT"]).write_text(json.dumps(report), encoding="utf-8")
    assert out["errors"] == [], out["errors"][:5]
    assert lat.size >= CLIENTS * 5, report
    assert report["decisions"] > 0
