#!/usr/bin/env python3
"""Fit the shipped USE scorer (v14): a learned low-rank adapter on the vectors, then the weights.

The dense cosine of a hand-written twin (0.45-0.6) sits where a public new proposal's nearest
unrelated record sits, so no threshold serves both (README, "Hand-written sets"). This script
learns x -> x + (x B) Aᵀ (`dedupe.match.adapter.fit_adapter`, rank 32) so that duplicates come
closer: logistic loss on the adapted cosine over the public tune pairs, the public tune query
candidates and the hand-written training pairs of written_sets/tune*/ (weight `--hand`, by
default `HAND_PER_PAIR` a pair: 0.9 of the public pairs' for v14's 1,200), with an L2 pull
towards the identity (`--lam`). The scorer's dense feature is then `blend` raw cosine +
(1 - `blend`) adapted cosine (`--blend`, 0.5: equal halves). The scorer is refitted as v11 was
(public tune pairs and query candidates, then the English/French refit with the hand-written
training pairs, at `--xl-hand`: by default `XL_HAND_PER_PAIR` a pair, 0.75 for v14's 1,200,
v13's 0.5 for 800; 0.1 in v11 and v12), on dense features that are *cross-fitted*: each half
of the public tune rows, and of the hand-written pairs, scored by an adapter trained without it
(an adapter that saw a row would make the scorer over-trust it); every evaluation set is scored
with the adapter trained on all.

Usage (after `python benchmarks/build_eval_sets.py build/eval`; torch comes with
sentence-transformers):

  python benchmarks/fit_adapter.py [--rank 32] [--lam 1] [--hand W] [--blend 0.5]
                                   [--xl-hand W] [--hand-cands W] [--write]

`--hand-cands W` (0 in v14; measured in session 19 and not adopted, README "Hand-written sets")
adds to the English/French refit the hand-written portfolios' records checked against each other
as proposals: their candidates in the other language, a labelled partner positive, any other
record negative.

Prints the figures of the identity (v11's procedure) and of the adapter at the refitted
scorer's own threshold. `--write` writes the adapter (`dedupe/match/adapters/use-v14.npz`) and
the weights (`dedupe/match/default_weights.json`). Its feature and vector tables are cached in
build/adapter_exp/ (raw features: computed with the adapter switched off). Nothing is fitted on
the held-out split, the trap set, the blind sets or the written pairs.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import quality_report as qr  # noqa: E402

from dedupe.match.adapter import ADAPTERS, DenseAdapter, fit_adapter  # noqa: E402
from dedupe.match.scoring import FEATURES, ScorerParams  # noqa: E402
from dedupe.records import Proposal  # noqa: E402
from dedupe.text import normalize_text  # noqa: E402

OUT = REPO / "build" / "adapter_exp"
ADAPTER = "use-v14"  # the shipped adapter's name (dedupe/match/adapters/use-v14.npz)
SCORER = "default-use-v14"  # the shipped weights' version
# the hand-written training folders (written_sets/<name>): training data, never evaluated on
HAND = tuple(
    f.name
    for f in sorted((REPO / "benchmarks" / "written_sets").glob("tune*"))
    if f.is_dir() and any(f.glob("*.csv"))
)
# Each hand-written pair's weight (v13's: 0.6 and 0.5 of the public rows' for its 800 pairs),
# so that a training folder added later neither dilutes nor outweighs the others.
HAND_PER_PAIR = 0.6 / 800  # in the adapter's training
XL_HAND_PER_PAIR = 0.5 / 800  # in the English/French refit
ZERO = ScorerParams((0.0,) * len(FEATURES), 0.0, features=FEATURES)


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


def hand_candidates(
    det, ids: pd.DataFrame, k: int = 20
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Every record of a hand-written training portfolio checked against the others as an intake
    proposal is: its candidates' features, y = 1 for a labelled positive partner, and `pair` =
    the row of `ids` the two records form (-1 for none: two records of different pairs)."""
    where: dict[tuple[str, str], int] = {}
    positive: set[tuple[str, str]] = set()
    for j, (a, b, label) in enumerate(zip(ids["id_a"], ids["id_b"], ids["label"], strict=True)):
        where[(a, b)] = where[(b, a)] = j
        if str(label).strip().lower() in qr.POSITIVE:
            positive |= {(a, b), (b, a)}
    vectors = np.asarray(det.index.vectors, dtype=np.float32)
    record_ids = det.column("id")
    rows, qv, cv = [], [], []
    for r in det.records:
        proposal = Proposal(r.title, r.description, r.department, r.language, id=r.id)
        c = det.candidates(proposal, k, features=FEATURES)
        found = [str(i) for i in record_ids[c.positions]]
        f = pd.DataFrame(c.features, columns=list(FEATURES))
        f["y"] = [int((r.id, i) in positive) for i in found]
        f["pair"] = [where.get((r.id, i), -1) for i in found]
        f["qid"] = r.id
        rows.append(f)
        qv.append(np.repeat(vectors[det.position(r.id)][None, :], len(found), axis=0))
        cv.append(vectors[list(c.positions)])
    return pd.concat(rows, ignore_index=True), np.vstack(qv), np.vstack(cv)


def _open(portfolio: Path, where: Path):
    """An index of the sets, scored without the shipped adapter: the tables' raw features."""
    det = qr.open_index("use", portfolio, where)
    det.params = replace(det.params, dense_adapter="", dense_blend=1.0)
    return det


def _builders() -> dict[str, Callable[[], tuple[pd.DataFrame, np.ndarray, np.ndarray]]]:
    """How each table is computed, by name (the indexes opened once, when first needed)."""
    ev = REPO / "build" / "eval"
    dets: dict[str, Any] = {}

    def det(key: str, portfolio: Path) -> Any:
        if key not in dets:
            dets[key] = _open(portfolio, REPO / "build" / f"idx_{key}")
        return dets[key]

    out: dict[str, Callable[[], tuple[pd.DataFrame, np.ndarray, np.ndarray]]] = {}
    meta = qr.read(ev / "queries_meta.csv")
    for split, k in (("tune", 20), ("holdout", 50)):
        out[f"gov_pairs_{split}"] = lambda split=split: pairs_with_vectors(
            det("use", ev / "portfolio.csv"), qr.read(ev / f"pairs_{split}.csv")
        )
        out[f"gov_q_{split}"] = lambda split=split, k=k: queries_with_vectors(
            det("use", ev / "portfolio.csv"),
            qr.read(ev / f"queries_{split}.csv")
            .merge(meta[["query_id", "kind"]], on="query_id", how="left")
            .fillna(""),
            k,
        )
    out["trap_pairs"] = lambda: pairs_with_vectors(
        det("traps_use", qr.trap_portfolio()), qr.read(qr.TRAPS / "pairs.csv")
    )
    out["trap_q"] = lambda: queries_with_vectors(
        det("traps_use", qr.trap_portfolio()), qr.read(qr.TRAPS / "queries.csv"), 50
    )
    for name in qr.BLIND_SETS:
        folder = qr.WRITTEN / name
        out[f"{name}_pairs"] = lambda name=name, folder=folder: pairs_with_vectors(
            det(f"{name}_use", folder / "portfolio.csv"),
            qr.inline_pairs(folder / "portfolio.csv", qr.read(folder / "pairs.csv")),
        )
        out[f"{name}_q"] = lambda name=name, folder=folder: queries_with_vectors(
            det(f"{name}_use", folder / "portfolio.csv"), qr.read(folder / "queries.csv"), 50
        )
    for name, folder in (("writt", "pairs"), *((h, h) for h in HAND)):

        def inline(name: str = name, folder: str = folder) -> Any:
            port, ids = qr.inline_set(folder)
            return pairs_with_vectors(det(f"{name}_use", port), qr.inline_pairs(port, ids))

        out[f"{name}_pairs"] = inline
        if name in HAND:

            def cands(name: str = name) -> Any:
                port, ids = qr.inline_set(name)
                return hand_candidates(det(f"{name}_use", port), ids)

            out[f"{name}_cands"] = cands
    return out


def tables() -> dict[str, tuple[pd.DataFrame, np.ndarray, np.ndarray]]:
    """Every set's feature table and vectors, cached in build/adapter_exp/tables.pkl; a table
    missing from the cache (a new training folder; one deleted to be computed again) is
    computed and added."""
    cache = OUT / "tables.pkl"
    out = pickle.loads(cache.read_bytes()) if cache.exists() else {}
    missing = {k: f for k, f in _builders().items() if k not in out}
    for name, build in missing.items():
        out[name] = build()
    if missing:
        OUT.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(pickle.dumps(out))
    return out


def hand_table(
    t: dict[str, tuple[pd.DataFrame, np.ndarray, np.ndarray]], names: list[str]
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The named hand-written training folders' pairs, with their vectors, as one table."""
    parts = [t[f"{h}_pairs"] for h in names]
    return (
        pd.concat([p[0] for p in parts], ignore_index=True),
        np.vstack([p[1] for p in parts]),
        np.vstack([p[2] for p in parts]),
    )


def hand_cands_table(
    t: dict[str, tuple[pd.DataFrame, np.ndarray, np.ndarray]],
    names: list[str],
    half_h: np.ndarray,
    ad_all: DenseAdapter,
    ad_a: DenseAdapter,
    ad_b: DenseAdapter,
) -> tuple[pd.DataFrame, np.ndarray]:
    """The named folders' candidate tables as one, and their adapted cosines, cross-fitted like
    the pairs': a labelled pair's two records by the adapter that did not see that pair (`ad_b`
    for the pairs in `half_h`, `ad_a` for the others), two records of different pairs by
    `ad_all`."""
    frames, us, vs, offset = [], [], [], 0
    for h in names:
        f, u, v = t[f"{h}_cands"]
        pair = f["pair"].to_numpy()
        frames.append(f.assign(pair=np.where(pair >= 0, pair + offset, -1)))
        us.append(u)
        vs.append(v)
        offset += len(t[f"{h}_pairs"][0])
    frame = pd.concat(frames, ignore_index=True)
    u, v = np.vstack(us), np.vstack(vs)
    pair = frame["pair"].to_numpy()
    labelled = pair >= 0
    in_a = labelled & half_h[np.maximum(pair, 0)]
    dense = np.empty(len(frame))
    for adapter, rows in ((ad_all, ~labelled), (ad_b, in_a), (ad_a, labelled & ~in_a)):
        dense[rows] = adapted(adapter, u[rows], v[rows])
    return frame, dense


def _label(frame: pd.DataFrame) -> np.ndarray:
    return (frame["label"] if "label" in frame else frame["y"]).to_numpy().astype(np.float32)


def adapted(adapter: DenseAdapter, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The adapted cosine of aligned vector pairs."""
    return adapter.cosine(np.sum(u * v, axis=1), adapter.project(u), adapter.project(v))


def with_dense(frame: pd.DataFrame, dense: np.ndarray, blend: float) -> pd.DataFrame:
    """The table with its dense feature (and dense × cross-language) through the adapter."""
    dense = blend * frame["dense"].to_numpy() + (1 - blend) * dense
    return frame.assign(dense=dense, dense_x_cross=dense * frame["cross_lang"].to_numpy())


def fit_scorer(
    d: dict[str, pd.DataFrame],
    *,
    hand_weight: float = 0.1,
    version: str = "custom",
    cands_weight: float = 0.0,
) -> ScorerParams:
    """v11's procedure (`quality_report.fit_weights`) on the tables: public tune pairs + query
    candidates, then the English/French refit with the hand-written pairs at `hand_weight`
    (and the hand-written portfolios' candidates at `cands_weight`)."""
    f = list(FEATURES)
    cands = d.get("hand_cands")
    return qr.fit_weights(
        *((d[k][f].to_numpy(), _label(d[k])) for k in ("gov_pairs_tune", "gov_q_tune", "hand")),
        hand_weight=hand_weight,
        version=version,
        hand_queries=None if cands is None else (cands[f].to_numpy(), _label(cands)),
        hand_query_weight=cands_weight,
    )


def figures(params: ScorerParams, d: dict[str, pd.DataFrame], thr: float) -> dict[str, float | str]:
    out: dict[str, float | str] = {"thr": round(thr, 3)}
    for name in (
        "gov_pairs_holdout",
        "trap_pairs",
        *(f"{b}_pairs" for b in qr.BLIND_SETS),
        "writt_pairs",
        "tune_pairs",
    ):
        t = d[name]
        s, y = params.probability(t[list(params.features)].to_numpy()), _label(t)
        short = name.replace("_pairs", "").replace("gov_holdout", "gov")
        out[f"{short} AP"] = round(float(average_precision_score(y, s)), 3)
        out[f"{short} rec"] = round(float((s[y == 1] >= thr).mean()), 3)
        flagged = s >= thr
        xl = (t["cross_lang"].to_numpy() > 0) & (y == 1)
        sdp = (t["pair_type"].to_numpy() == "sdp") & (y == 0)
        out[f"{short} EN/FR"] = f"{int(flagged[xl].sum())}/{int(xl.sum())}"
        out[f"{short} sdp"] = f"{int(flagged[sdp].sum())}/{int(sdp.sum())}"
    for name in ("gov_q_holdout", "trap_q", *(f"{b}_q" for b in qr.BLIND_SETS)):
        t = d[name].assign(p=params.probability(d[name][list(params.features)].to_numpy()))
        r5, hit, ff, xlq, sdpq = [], [], [], [], []
        for _, g in t.groupby("qid", sort=False):
            g = g.sort_values("p", ascending=False)
            if g["n_exp"].iat[0]:
                r5.append(g["y"].head(5).sum() / min(g["n_exp"].iat[0], 5))
                hit.append(bool(((g["p"] >= thr) & (g["y"] == 1)).any()))
                if (g.loc[g["y"] == 1, "cross_lang"] > 0).any():  # a twin in the other language
                    xlq.append(hit[-1])
            else:
                ff.append(bool((g["p"] >= thr).any()))
                if g["kind"].iat[0] == "sdp":
                    sdpq.append(ff[-1])
        short = name.replace("_q", "").replace("gov_holdout", "gov")
        out[f"{short} r@5"] = round(float(np.mean(r5)), 4)
        out[f"{short} hit"] = round(float(np.mean(hit)), 3)
        out[f"{short} FF"] = round(float(np.mean(ff)), 3)
        out[f"{short} EN/FR q"] = f"{sum(xlq)}/{len(xlq)}"
        if sdpq:
            out[f"{short} sdp q"] = f"{sum(sdpq)}/{len(sdpq)}"
    if "hand_cands" in d:  # training rows: the hand-written records' cross-language candidates
        t = d["hand_cands"]
        flagged = params.probability(t[list(params.features)].to_numpy()) >= thr
        xl, y = t["cross_lang"].to_numpy() > 0, _label(t) == 1
        out["hand cands EN/FR partners"] = f"{int(flagged[xl & y].sum())}/{int((xl & y).sum())}"
        out["hand cands EN/FR others"] = f"{int(flagged[xl & ~y].sum())}/{int((xl & ~y).sum())}"
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rank", type=int, default=32)
    ap.add_argument("--lam", type=float, default=1.0)
    ap.add_argument(
        "--hand",
        type=float,
        default=None,
        help="the hand-written pairs' weight, all together (default: HAND_PER_PAIR each; "
        "v12, v13: 0.6 for 800 pairs; v14: 0.9 for 1,200)",
    )
    ap.add_argument("--blend", type=float, default=0.5, help="the raw cosine's weight")
    ap.add_argument(
        "--hand-cands",
        type=float,
        default=0.0,
        help="in the English/French refit, the weight (all together, as --xl-hand) of the "
        "hand-written portfolios' records checked against each other: their candidates in the "
        "other language, a labelled partner positive, any other record negative",
    )
    ap.add_argument("--write", action="store_true", help="ship the adapter and the weights")
    ap.add_argument(
        "--hand-sets", default=",".join(HAND), help="hand-written training folders to use"
    )
    ap.add_argument(
        "--xl-hand",
        type=float,
        default=None,
        help="the hand-written pairs' weight in the English/French refit, all together "
        "(default: XL_HAND_PER_PAIR each; v11, v12: 0.1; v13: 0.5 for 800 pairs; v14: 0.75 "
        "for 1,200)",
    )
    args = ap.parse_args()
    t = tables()
    t["hand"] = hand_table(t, args.hand_sets.split(","))
    n_hand = len(t["hand"][0])
    if args.hand is None:
        args.hand = round(HAND_PER_PAIR * n_hand, 6)
    if args.xl_hand is None:
        args.xl_hand = round(XL_HAND_PER_PAIR * n_hand, 6)
    frames = {k: v[0] for k, v in t.items()}
    gp, gq = frames["gov_pairs_tune"], frames["gov_q_tune"]
    rng = np.random.default_rng(0)
    half_p = rng.random(len(gp)) < 0.5
    qids = gq["qid"].unique()
    half_q = gq["qid"].isin(set(rng.choice(qids, len(qids) // 2, replace=False))).to_numpy()

    hand = t["hand"]
    half_h = np.random.default_rng(1).random(len(hand[0])) < 0.5
    every_h = np.ones(len(hand[0]), bool)

    def train_on(
        mp: np.ndarray, mq: np.ndarray, mh: np.ndarray = every_h, name: str = "custom"
    ) -> DenseAdapter:
        us = [t["gov_pairs_tune"][1][mp], t["gov_q_tune"][1][mq], hand[1][mh]]
        vs = [t["gov_pairs_tune"][2][mp], t["gov_q_tune"][2][mq], hand[2][mh]]
        ys = [_label(gp)[mp], _label(gq)[mq], _label(hand[0])[mh]]
        n0 = int(mp.sum())
        ws = [
            np.ones(n0),
            np.full(int(mq.sum()), n0 / mq.sum()),
            np.full(len(ys[2]), args.hand * n0 / len(ys[2])),
        ]
        return fit_adapter(
            np.vstack(us),
            np.vstack(vs),
            np.concatenate(ys),
            np.concatenate(ws),
            rank=args.rank,
            lam=args.lam,
            name=name,
        )

    rows = []
    base = fit_scorer(frames)
    rows.append({"model": "v11 procedure (no adapter)", **figures(base, frames, base.overlap_at)})
    ad_a, ad_b = train_on(half_p, half_q), train_on(~half_p, ~half_q)
    every_p, every_q = np.ones(len(gp), bool), np.ones(len(gq), bool)
    ad_all = train_on(every_p, every_q, name=ADAPTER)
    d = {  # the folders' candidate tables join as one, cross-fitted, below
        k: with_dense(f, adapted(ad_all, t[k][1], t[k][2]), args.blend)
        for k, f in frames.items()
        if not k.endswith("_cands")
    }
    for k, half in (("gov_pairs_tune", half_p), ("gov_q_tune", half_q)):
        u, v = t[k][1], t[k][2]
        cross = np.where(half, adapted(ad_b, u, v), adapted(ad_a, u, v))
        d[k] = with_dense(frames[k], cross, args.blend)
    # the hand-written pairs too: each half scored by an adapter that did not see it
    ad_ha, ad_hb = train_on(every_p, every_q, half_h), train_on(every_p, every_q, ~half_h)
    u, v = hand[1], hand[2]
    cross = np.where(half_h, adapted(ad_hb, u, v), adapted(ad_ha, u, v))
    d["hand"] = with_dense(frames["hand"], cross, args.blend)
    cands, dense = hand_cands_table(t, args.hand_sets.split(","), half_h, ad_all, ad_ha, ad_hb)
    d["hand_cands"] = with_dense(cands, dense, args.blend)
    params = fit_scorer(d, hand_weight=args.xl_hand, version=SCORER, cands_weight=args.hand_cands)
    rows.append(
        {
            "model": f"adapter r{args.rank} lam{args.lam} hand{args.hand} blend{args.blend} "
            f"xl-hand{args.xl_hand} cands{args.hand_cands}",
            **figures(params, d, params.overlap_at),
        }
    )
    pd.set_option("display.width", 400)
    pd.set_option("display.max_columns", 60)
    print(pd.DataFrame(rows).set_index("model").T.to_string())
    if args.write:
        write(params, ad_all, args, len(_label(gp)), len(_label(gq)), len(t["hand"][0]))


def write(
    params: ScorerParams,
    adapter: DenseAdapter,
    args: argparse.Namespace,
    n_p: int,
    n_q: int,
    n_h: int,
) -> None:
    folder = REPO / "dedupe" / "match" / ADAPTERS
    folder.mkdir(exist_ok=True)
    adapter.save(str(folder / f"{ADAPTER}.npz"))
    params = replace(
        params,
        dense_adapter=ADAPTER,
        dense_blend=args.blend,
        trained_on=(
            f"adapter {ADAPTER} (rank {args.rank}, lam {args.lam}) fitted on the gov_pairs tune "
            f"split ({n_p}), the tune query candidates ({n_q}, top-20) and the hand-written pairs "
            f"of written_sets/{{{args.hand_sets}}} ({n_h}, weight {args.hand}); "
            f"dense = {args.blend} raw + {1 - args.blend} adapted cosine, "
            "cross-fitted on the public tune rows and the hand-written pairs; weights fitted "
            "as v11 (cross_lang and dense_x_cross refitted on the cross-language rows with the "
            f"same hand-written pairs' at {args.xl_hand}); build_eval_sets seed 13; "
            "benchmarks/fit_adapter.py"
        ),
    )
    weights = REPO / "dedupe" / "match" / "default_weights.json"
    table = json.loads(weights.read_text()) if weights.exists() else {}
    table["use-multilingual-v3"] = params.to_dict()
    weights.write_text(json.dumps(table, indent=2, sort_keys=True) + "\n")
    print(f"wrote {folder / ADAPTER}.npz and {weights}", file=sys.stderr)


if __name__ == "__main__":
    main()
