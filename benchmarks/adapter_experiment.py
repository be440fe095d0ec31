#!/usr/bin/env python3
"""Experiment (session 15, not shipped): a learned linear adapter on the USE vectors.

The dense cosine of a hand-written twin (0.45-0.6) sits where a public new proposal's nearest
unrelated record sits, so no threshold serves both (README, "Hand-written sets"). This script
learns x -> x (I + A Bᵀ) (rank r) so that duplicates come closer: logistic loss on the adapted
cosine over the public tune pairs, the public tune query candidates and the hand-written tune
pairs (weight `--hand`), with an L2 pull towards the identity (`--lam`). The scorer is then
refitted as v11 is, on adapted dense cosines that are *cross-fitted* (each half of the public
tune rows scored by an adapter trained on the other half: an adapter that saw a row would make
the scorer over-trust it), and every evaluation set is scored with the adapter trained on all.

Usage (after `python benchmarks/build_eval_sets.py build/eval`; torch from the dev install):

  python benchmarks/adapter_experiment.py [--rank 32] [--lam 1] [--hand 0.3]

Writes its feature and vector tables to build/adapter_exp/ (reused) and prints one row of
figures at the refitted scorer's own threshold and at higher ones. Nothing is fitted on the
held-out split, the trap set, the blind sets or the written pairs.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import quality_report as qr  # noqa: E402

from dedupe.match.scoring import FEATURES, ScorerParams, fit_params, refit_weights  # noqa: E402
from dedupe.text import normalize_text  # noqa: E402

OUT = REPO / "build" / "adapter_exp"
ZERO = ScorerParams((0.0,) * len(FEATURES), 0.0, features=FEATURES)
FR_KINDS = qr.FR_KINDS | {"duplicate_en_fr", "dup_en_fr", "ca_programs_en_fr"}


def _clean(det, title: str, text: str, dept: str) -> str:
    return det.clean_text(
        normalize_text(title), normalize_text(text), department=normalize_text(dept)
    )


def pairs_with_vectors(det, frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    table = qr.pair_table(det, frame, ZERO)
    sides = [
        [
            _clean(det, t, d, p)
            for t, d, p in zip(
                frame[f"title_{s}"], frame[f"text_{s}"], frame[f"dept_{s}"], strict=True
            )
        ]
        for s in "ab"
    ]
    return table, qr.embed(det, sides[0]), qr.embed(det, sides[1])


def queries_with_vectors(
    det, frame: pd.DataFrame, k: int
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rows, qv, cv = [], [], []
    vectors = np.asarray(det.index.vectors, dtype=np.float32)
    kinds = frame.set_index("query_id")["kind"] if "kind" in frame else None
    for q in frame.itertuples(index=False):
        c, expected, ids = qr.candidates_of(det, q, k)
        f = pd.DataFrame(c.features, columns=list(FEATURES))
        f["y"] = [int(i in expected) for i in ids]
        f["qid"], f["n_exp"] = q.query_id, len(expected)
        f["kind"] = kinds[q.query_id] if kinds is not None else ""
        rows.append(f)
        query = qr.embed(det, [_clean(det, q.title, q.description, q.department)])[0]
        qv.append(np.repeat(query[None, :], len(ids), axis=0))
        cv.append(vectors[list(c.positions)])
    return pd.concat(rows, ignore_index=True), np.vstack(qv), np.vstack(cv)


def tables() -> dict[str, tuple[pd.DataFrame, np.ndarray, np.ndarray]]:
    cache = OUT / "tables.pkl"
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    out = {}
    ev = REPO / "build" / "eval"
    det = qr.open_index("use", ev / "portfolio.csv", REPO / "build" / "idx_use")
    meta = qr.read(ev / "queries_meta.csv")
    for split, k in (("tune", 20), ("holdout", 50)):
        out[f"gov_pairs_{split}"] = pairs_with_vectors(det, qr.read(ev / f"pairs_{split}.csv"))
        q = qr.read(ev / f"queries_{split}.csv").merge(
            meta[["query_id", "kind"]], on="query_id", how="left"
        )
        out[f"gov_q_{split}"] = queries_with_vectors(det, q.fillna(""), k)
    det = qr.open_index("use", qr.trap_portfolio(), REPO / "build" / "idx_traps_use")
    out["trap_pairs"] = pairs_with_vectors(det, qr.read(qr.TRAPS / "pairs.csv"))
    out["trap_q"] = queries_with_vectors(det, qr.read(qr.TRAPS / "queries.csv"), 50)
    for name in ("blind", "blind2"):
        folder = qr.WRITTEN / name
        det = qr.open_index("use", folder / "portfolio.csv", REPO / "build" / f"idx_{name}_use")
        frame = qr.inline_pairs(folder / "portfolio.csv", qr.read(folder / "pairs.csv"))
        out[f"{name}_pairs"] = pairs_with_vectors(det, frame)
        out[f"{name}_q"] = queries_with_vectors(det, qr.read(folder / "queries.csv"), 50)
    for name, folder in (("writt", "pairs"), ("tune", "tune")):
        port, ids = qr.inline_set(folder)
        det = qr.open_index("use", port, REPO / "build" / f"idx_{name}_use")
        out[f"{name}_pairs"] = pairs_with_vectors(det, qr.inline_pairs(port, ids))
    OUT.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(pickle.dumps(out))
    return out


def _label(frame: pd.DataFrame) -> np.ndarray:
    return (frame["label"] if "label" in frame else frame["y"]).to_numpy().astype(np.float32)


def train(
    u: np.ndarray, v: np.ndarray, y: np.ndarray, w: np.ndarray, rank: int, lam: float
) -> np.ndarray:
    import torch

    torch.manual_seed(0)
    u_t, v_t, y_t, w_t = (torch.tensor(np.asarray(a, dtype=np.float32)) for a in (u, v, y, w))
    d = u.shape[1]
    a_m = torch.zeros(d, rank, requires_grad=True)
    b_m = (torch.randn(d, rank) * 0.01).requires_grad_()
    scale, shift = torch.tensor(10.0, requires_grad=True), torch.tensor(-6.0, requires_grad=True)
    opt = torch.optim.Adam([a_m, b_m, scale, shift], lr=0.01)
    for _ in range(300):
        opt.zero_grad()
        m = a_m @ b_m.T
        s = torch.nn.functional.cosine_similarity(u_t + u_t @ m.T, v_t + v_t @ m.T)
        bce = torch.nn.functional.binary_cross_entropy_with_logits(
            scale * s + shift, y_t, reduction="none"
        )
        loss = (w_t * bce).sum() / w_t.sum() + lam * (m**2).sum() / d
        loss.backward()
        opt.step()
    return (torch.eye(d) + a_m @ b_m.T).detach().numpy().T


def adapted(w: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    fu, fv = u @ w, v @ w
    return np.sum(fu * fv, axis=1) / np.linalg.norm(fu, axis=1) / np.linalg.norm(fv, axis=1)


AS_FEATURE = False  # --as-feature: the adapted cosine beside the raw one, not instead of it


BLEND = 0.0  # --blend A: the dense feature is A * raw cosine + (1 - A) * adapted cosine


def with_dense(frame: pd.DataFrame, dense: np.ndarray) -> pd.DataFrame:
    if AS_FEATURE:
        return frame.assign(dense_ad=dense)
    if BLEND:
        dense = BLEND * frame["dense"].to_numpy() + (1 - BLEND) * dense
    return frame.assign(dense=dense, dense_x_cross=dense * frame["cross_lang"].to_numpy())


def fit_scorer(d: dict[str, pd.DataFrame], features: tuple[str, ...] = FEATURES) -> ScorerParams:
    """v11's procedure: public tune pairs + query candidates, then the English/French refit."""
    f = list(features)
    gp, gq = d["gov_pairs_tune"], d["gov_q_tune"]
    xp, yp, xq, yq = gp[f].to_numpy(), _label(gp), gq[f].to_numpy(), _label(gq)
    n0 = len(yp)
    params = fit_params(
        np.vstack([xp, xq]),
        np.concatenate([yp, yq]),
        features=features,
        sample_weight=np.concatenate([np.ones(n0), np.full(len(yq), n0 / len(yq))]),
    )
    xl = f.index("cross_lang")
    cp, cq = xp[:, xl] > 0, xq[:, xl] > 0
    n = int(cp.sum())
    return refit_weights(
        params,
        np.vstack([xp[cp], xq[cq]]),
        np.concatenate([yp[cp], yq[cq]]),
        ("cross_lang", "dense_x_cross"),
        sample_weight=np.concatenate([np.ones(n), np.full(int(cq.sum()), n / cq.sum())]),
    )


def figures(params: ScorerParams, d: dict[str, pd.DataFrame], thr: float) -> dict[str, float]:
    out: dict[str, float] = {"thr": round(thr, 3)}
    for name in (
        "gov_pairs_holdout",
        "trap_pairs",
        "blind_pairs",
        "blind2_pairs",
        "writt_pairs",
        "tune_pairs",
    ):
        t = d[name]
        s, y = params.probability(t[list(params.features)].to_numpy()), _label(t)
        short = name.replace("_pairs", "").replace("gov_holdout", "gov")
        out[f"{short} AP"] = round(float(average_precision_score(y, s)), 3)
        out[f"{short} rec"] = round(float((s[y == 1] >= thr).mean()), 3)
    for name in ("gov_q_holdout", "trap_q", "blind_q", "blind2_q"):
        t = d[name].assign(p=params.probability(d[name][list(params.features)].to_numpy()))
        r5, hit, ff = [], [], []
        for _, g in t.groupby("qid", sort=False):
            g = g.sort_values("p", ascending=False)
            if g["n_exp"].iat[0]:
                r5.append(g["y"].head(5).sum() / min(g["n_exp"].iat[0], 5))
                hit.append(bool(((g["p"] >= thr) & (g["y"] == 1)).any()))
            else:
                ff.append(bool((g["p"] >= thr).any()))
        short = name.replace("_q", "").replace("gov_holdout", "gov")
        out[f"{short} r@5"] = round(float(np.mean(r5)), 3)
        out[f"{short} hit"] = round(float(np.mean(hit)), 3)
        out[f"{short} FF"] = round(float(np.mean(ff)), 3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rank", type=int, default=32)
    ap.add_argument("--lam", type=float, default=1.0)
    ap.add_argument("--hand", type=float, default=0.3, help="hand-written tune pairs' weight")
    ap.add_argument("--as-feature", action="store_true", help="adapted cosine as its own feature")
    ap.add_argument(
        "--blend", type=float, default=0.0, help="weight of the raw cosine in the dense"
    )
    args = ap.parse_args()
    global AS_FEATURE, BLEND
    AS_FEATURE, BLEND = args.as_feature, args.blend
    t = tables()
    frames = {k: v[0] for k, v in t.items()}
    gp, gq = frames["gov_pairs_tune"], frames["gov_q_tune"]
    rng = np.random.default_rng(0)
    half_p = rng.random(len(gp)) < 0.5
    qids = gq["qid"].unique()
    half_q = gq["qid"].isin(set(rng.choice(qids, len(qids) // 2, replace=False))).to_numpy()

    def train_on(mp: np.ndarray, mq: np.ndarray) -> np.ndarray:
        hand = t["tune_pairs"]
        us = [t["gov_pairs_tune"][1][mp], t["gov_q_tune"][1][mq], hand[1]]
        vs = [t["gov_pairs_tune"][2][mp], t["gov_q_tune"][2][mq], hand[2]]
        ys = [_label(gp)[mp], _label(gq)[mq], _label(hand[0])]
        n0 = int(mp.sum())
        ws = [
            np.ones(n0),
            np.full(int(mq.sum()), n0 / mq.sum()),
            np.full(len(ys[2]), args.hand * n0 / len(ys[2])),
        ]
        return train(
            np.vstack(us),
            np.vstack(vs),
            np.concatenate(ys),
            np.concatenate(ws),
            args.rank,
            args.lam,
        )

    rows = []
    base = fit_scorer(frames)
    rows.append({"model": "v11 (identity)", **figures(base, frames, base.overlap_at)})
    w_a, w_b = train_on(half_p, half_q), train_on(~half_p, ~half_q)
    w_all = train_on(np.ones(len(gp), bool), np.ones(len(gq), bool))
    d = {k: with_dense(f, adapted(w_all, t[k][1], t[k][2])) for k, f in frames.items()}
    for k, half in (("gov_pairs_tune", half_p), ("gov_q_tune", half_q)):
        u, v = t[k][1], t[k][2]
        d[k] = with_dense(frames[k], np.where(half, adapted(w_b, u, v), adapted(w_a, u, v)))
    params = fit_scorer(d, FEATURES + (("dense_ad",) if AS_FEATURE else ()))
    print(dict(zip(params.features, np.round(params.weights, 2), strict=True)))
    for thr in (params.overlap_at, 0.7, 0.8):
        rows.append(
            {
                "model": f"adapter r{args.rank} lam{args.lam} hand{args.hand}",
                **figures(params, d, thr),
            }
        )
    pd.set_option("display.width", 400)
    pd.set_option("display.max_columns", 60)
    print(pd.DataFrame(rows).set_index("model").T.to_string())


if __name__ == "__main__":
    main()
