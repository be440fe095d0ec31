#!/usr/bin/env python3
"""Fit the shipped scorer weights and measure detection quality (tune / holdout / trap set).

Usage (from the repo root, after `python benchmarks/build_eval_sets.py build/eval`):

  python benchmarks/quality_report.py fit    --encoder minilm  # tune split -> default_weights.json
                                                               # (USE, with its adapter:
                                                               # benchmarks/fit_adapter.py --write)
  python benchmarks/quality_report.py report --encoder use     # held-out figures (JSON + tables)
  python benchmarks/quality_report.py traps  --encoder use     # hand-written trap set
  python benchmarks/quality_report.py sanity --encoder use     # STS-B / MRPC (evaluation only)
  python benchmarks/quality_report.py written --encoder use    # hand-written intake-like sets
                                                               # (3 blind sets, written/tune pairs)

Indexes and embedding caches live in build/idx_<encoder> (reused between runs: CPU is scarce).
Nothing is fitted on the held-out split or the trap set.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dedupe.detector import Detector  # noqa: E402
from dedupe.embed.cache import EmbeddingCache, embed_with_cache  # noqa: E402
from dedupe.evaluate import POSITIVE, run_queries  # noqa: E402
from dedupe.match.lexical import LexicalModel  # noqa: E402
from dedupe.match.scoring import FEATURES, ScorerParams, fit_params, refit_weights  # noqa: E402
from dedupe.records import Proposal  # noqa: E402
from dedupe.text import normalize_text  # noqa: E402

WEIGHTS = REPO / "dedupe" / "match" / "default_weights.json"
TRAPS = REPO / "tests" / "data" / "traps"
WRITTEN = REPO / "benchmarks" / "written_sets"  # hand-written, fictional: evaluation only
# the blind sets (folder of WRITTEN, also their index key: report name): portfolio, pairs and
# queries each
BLIND_SETS = {"blind": "blind", "blind2": "blind 2", "blind3": "blind 3"}
SHARED = REPO.parent / "shared" / "data"
FR_KINDS = {"fr_bilingual", "fr_reworded", "en_to_fr", "dup_fr", "dup_en_to_fr"}


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def open_index(encoder: str, portfolio: Path, where: Path) -> Detector:
    if not (where / "manifest.json").exists() or _stale(where, portfolio):
        t0 = time.time()
        Detector.ingest(where, [portfolio], encoder=encoder, source="portfolio")
        print(f"ingest {portfolio} -> {where}: {time.time() - t0:.0f}s", file=sys.stderr)
        (where / ".built_from").write_text(f"{portfolio.resolve()}:{portfolio.stat().st_mtime}")
    det = Detector.open(where)
    if det.lexical.matrix is None:  # an index built before hybrid retrieval: refit in memory
        det.lexical = LexicalModel.fit([det.record_text(i) for i in range(len(det.index))])
    return det


def _stale(where: Path, portfolio: Path) -> bool:
    mark = where / ".built_from"
    return (
        not mark.exists()
        or mark.read_text() != f"{portfolio.resolve()}:{portfolio.stat().st_mtime}"
    )


def embed(det: Detector, texts: list[str]) -> np.ndarray:
    cache = EmbeddingCache(det.path / "embeddings.sqlite")
    try:
        vecs, _ = embed_with_cache(det.encoder, texts, cache)
    finally:
        cache.close()
    return vecs


def pair_table(
    det: Detector, frame: pd.DataFrame, params: ScorerParams | None = None
) -> pd.DataFrame:
    """Scores per inline pair: raw dense cosine, TF-IDF, the scorer's features and probability."""

    def side(s: str) -> tuple[list[str], list[str], list[str], list[str]]:
        titles = [normalize_text(t) for t in frame[f"title_{s}"]]
        descs = [normalize_text(t) for t in frame[f"text_{s}"]]
        raw = [f"{t}. {d}" if t and d else t or d for t, d in zip(titles, descs, strict=True)]
        depts = [normalize_text(t) for t in frame[f"dept_{s}"]]
        clean = [
            det.clean_text(t, d, department=dep)
            for t, d, dep in zip(titles, descs, depts, strict=True)
        ]
        return raw, clean, titles, depts

    ra, ca, ta, da = side("a")
    rb, cb, tb, db = side("b")
    raw_dense = np.sum(embed(det, ra) * embed(det, rb), axis=1)
    va, vb = embed(det, ca), embed(det, cb)
    dense = det.dense_feature(np.sum(va * vb, axis=1), va, vb)  # through the scorer's adapter
    feats = tuple((params or det.params).features)
    x = det.pair_features(ca, cb, ta, tb, da, db, dense, features=feats)
    out = pd.DataFrame(x, columns=list(feats))
    out["raw_dense"] = raw_dense
    out["tfidf"] = det.lexical.pair_similarity(ra, rb)
    out["label"] = frame["label"].astype(int).to_numpy()
    out["pair_type"] = frame["pair_type"].to_numpy()
    out["score"] = (params or det.params).probability(x)
    return out


def candidates_of(det: Detector, q: Any, k: int) -> tuple[Any, set[str], list[str]]:
    """A query row's `k` candidates (`Detector.candidates`), expected ids and candidate ids."""
    prop = Proposal(
        title=q.title,
        description=q.description,
        department=q.department,
        language=q.language,
        id=q.query_id,
    )
    c = det.candidates(prop, k, features=FEATURES)
    expected = set(filter(None, q.expected_ids.replace("|", ";").split(";")))
    return c, expected, [det.index.frame["id"].iat[p] for p in c.positions]


def query_candidates(
    det: Detector, frame: pd.DataFrame, k: int
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    xs, ys, qids = [], [], []
    for q in frame.itertuples(index=False):
        c, expected, ids = candidates_of(det, q, k)
        xs.append(c.features)
        ys.append(np.array([1 if i in expected else 0 for i in ids]))
        qids += [q.query_id] * len(ids)
    return np.vstack(xs), np.concatenate(ys), qids


def fit(args: argparse.Namespace) -> None:
    if args.encoder == "use":
        raise SystemExit(
            "the USE scorer (v12 on) is fitted with its dense adapter: "
            "python benchmarks/fit_adapter.py --write"
        )
    ev = Path(args.eval)
    det = open_index(args.encoder, ev / "portfolio.csv", Path(f"build/idx_{args.encoder}"))
    pairs = pair_table(
        det,
        read(ev / "pairs_tune.csv"),
        ScorerParams((0.0,) * len(FEATURES), 0.0, features=FEATURES),
    )
    xp, yp = pairs[list(FEATURES)].to_numpy(), pairs["label"].to_numpy()
    xq, yq, _ = query_candidates(det, read(ev / "queries_tune.csv"), args.k)
    if args.traps_in_fit:
        raise SystemExit("the trap set is for evaluation only")
    hand = hand_written_tune(args.encoder)
    hx, hy = hand[list(FEATURES)].to_numpy(), hand["label"].to_numpy()
    params = fit_weights(
        (xp, yp),
        (xq, yq),
        (hx, hy),
        hand_weight=args.hand_weight,
        version=f"default-{args.encoder}-v11",
        trained_on=f"gov_pairs tune split with EN/FR re-worded service pairs ({len(yp)}) + "
        f"tune query candidates ({len(yq)}, top-{args.k}); build_eval_sets seed 13 with "
        f"family_judgements.csv and new_judgements.csv; lexicon_fr_en.tsv",
        c=args.c,
        flag_beta=args.beta,
    )
    n_xl = int((hx[:, FEATURES.index("cross_lang")] > 0).sum())
    params = replace(
        params,
        trained_on=params.trained_on
        + f"; cross_lang and dense_x_cross refitted on the cross-language rows with the "
        f"hand-written tune pairs' ({n_xl}, weight {args.hand_weight})",
    )
    print(json.dumps(params.to_dict(), indent=1))
    table = json.loads(WEIGHTS.read_text()) if WEIGHTS.exists() else {}
    table[det.encoder.model_id.split("@")[0]] = params.to_dict()
    WEIGHTS.write_text(json.dumps(table, indent=2, sort_keys=True) + "\n")
    print(f"wrote {WEIGHTS} [{det.encoder.model_id}]", file=sys.stderr)


def fit_weights(
    pairs: tuple[np.ndarray, np.ndarray],
    queries: tuple[np.ndarray, np.ndarray],
    hand: tuple[np.ndarray, np.ndarray],
    *,
    hand_weight: float = 0.1,
    version: str = "custom",
    trained_on: str = "",
    c: float = 1.0,
    flag_beta: float = 1.0,
    hand_queries: tuple[np.ndarray, np.ndarray] | None = None,
    hand_query_weight: float = 0.0,
) -> ScorerParams:
    """The shipped fitting procedure (v11, and v12's on adapted features), from (features,
    labels) of the public tune pairs, the tune query candidates and the hand-written training
    pairs: a logistic fit on the pairs and the query candidates (hard negatives; the two sources
    weigh the same), then the English<->French intercept and dense slope refitted on the
    cross-language rows, the hand-written pairs' among them (natively written French twins,
    which the public pairs lack) at `hand_weight`, every other weight held: same-language scores
    unchanged. `hand_queries`: the hand-written portfolios' records checked against each other
    (their candidates, labelled by the pairs), in that refit too, at `hand_query_weight`."""
    (xp, yp), (xq, yq), (xh, yh) = pairs, queries, hand
    params = fit_params(
        np.vstack([xp, xq]),
        np.concatenate([yp, yq]),
        features=FEATURES,
        version=version,
        trained_on=trained_on,
        c=c,
        flag_beta=flag_beta,
        sample_weight=np.concatenate(
            [np.full(len(yp), 1.0), np.full(len(yq), len(yp) / max(len(yq), 1))]
        ),
    )
    xl = FEATURES.index("cross_lang")
    cp, cq, ch = xp[:, xl] > 0, xq[:, xl] > 0, xh[:, xl] > 0
    n = int(cp.sum())  # the three sources weigh: pairs 1, query candidates 1, hand-written hw

    def share(rows: np.ndarray, total: float) -> np.ndarray:  # `total` spread over the rows
        return np.full(int(rows.sum()), total / max(int(rows.sum()), 1))

    xs, ys = [xp[cp], xq[cq], xh[ch]], [yp[cp], yq[cq], yh[ch]]
    ws = [np.ones(n), share(cq, n), share(ch, hand_weight * n)]
    if hand_queries is not None and hand_query_weight > 0:
        xc, yc = hand_queries
        cc = xc[:, xl] > 0
        xs.append(xc[cc])
        ys.append(yc[cc])
        ws.append(share(cc, hand_query_weight * n))
    return refit_weights(
        params,
        np.vstack(xs),
        np.concatenate(ys),
        ("cross_lang", "dense_x_cross"),
        sample_weight=np.concatenate(ws),
    )


def inline_set(folder: str) -> tuple[Path, pd.DataFrame]:
    """A folder of hand-written inline pairs (`written_sets/<folder>`) as one portfolio of its
    distinct sides, and id pairs over it."""
    pairs = pd.concat([read(f) for f in sorted((WRITTEN / folder).glob("*.csv"))])
    port = REPO / "build" / f"{'written' if folder == 'pairs' else folder}_portfolio.csv"
    return port, written_portfolio(pairs.reset_index(drop=True), port)


def hand_written_tune(encoder: str) -> pd.DataFrame:
    """The hand-written tune pairs (`written_sets/tune`, training data) as a pair table, each
    distinct side a record of one portfolio (as `written` scores them)."""
    port, id_pairs = inline_set("tune")
    det = open_index(encoder, port, REPO / "build" / f"idx_tune_{encoder}")
    zero = ScorerParams((0.0,) * len(FEATURES), 0.0, features=FEATURES)
    return pair_table(det, inline_pairs(port, id_pairs), zero)


def ap(y: np.ndarray, s: np.ndarray) -> float:
    return round(float(average_precision_score(y, s)), 4) if 0 < y.sum() < len(y) else float("nan")


def pair_report(pt: pd.DataFrame, threshold: float) -> pd.DataFrame:
    rows = []
    for name, g in [("ALL", pt), *pt.groupby("pair_type")]:
        y = g["label"].to_numpy()
        flagged = g["score"].to_numpy() >= threshold
        rows.append(
            {
                "pair_type": name,
                "n": len(g),
                "AP raw cosine": ap(y, g["raw_dense"].to_numpy()),
                "AP tfidf": ap(y, g["tfidf"].to_numpy()),
                "AP final": ap(y, g["score"].to_numpy()),
                "recall@thr": round(float(flagged[y == 1].mean()), 3)
                if (y == 1).any()
                else float("nan"),
                "neg flagged@thr": round(float(flagged[y == 0].mean()), 3)
                if (y == 0).any()
                else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def query_report(det: Detector, frame: pd.DataFrame, kinds: pd.Series) -> tuple[dict, pd.DataFrame]:
    figs, rows = run_queries(det, frame)
    per = []
    top = rows.sort_values(["query_id", "rank"])
    for q in frame.itertuples(index=False):
        r = top[top["query_id"] == q.query_id]
        expected = set(filter(None, q.expected_ids.split(";")))
        flagged_ids = set(r.loc[r["tier"] != "below", "id"])
        top5 = set(r["id"].head(5))
        per.append(
            {
                "query_id": q.query_id,
                "kind": kinds.get(q.query_id, ""),
                "expected": bool(expected),
                "r5": len(top5 & expected) / min(len(expected), 5) if expected else np.nan,
                "hit_flagged": bool(expected & flagged_ids) if expected else np.nan,
                "any_flag": bool(flagged_ids),
            }
        )
    return figs.__dict__, pd.DataFrame(per)


def summarise_queries(per: pd.DataFrame) -> pd.DataFrame:
    g = per.groupby("kind").agg(
        n=("query_id", "size"),
        recall_at_5=("r5", "mean"),
        expected_flagged=("hit_flagged", "mean"),
        any_flag=("any_flag", "mean"),
    )
    return g.round(3)


def report(args: argparse.Namespace) -> None:
    ev = Path(args.eval)
    det = open_index(args.encoder, ev / "portfolio.csv", Path(f"build/idx_{args.encoder}"))
    print(
        f"encoder {det.encoder.model_id}; scorer {det.params.version}: overlap_at="
        f"{det.params.overlap_at} duplicate_at={det.params.duplicate_at}"
    )
    split = args.split
    pt = pair_table(det, read(ev / f"pairs_{split}.csv"))
    print(f"\n## gov_pairs {split} (threshold {det.params.overlap_at})")
    print(pair_report(pt, det.params.overlap_at).to_string(index=False))
    meta = read(ev / "queries_meta.csv").set_index("query_id")["kind"]
    qf = read(ev / f"queries_{split}.csv")
    figs, per = query_report(det, qf, meta)
    print(f"\n## queries {split}: {figs}")
    print(summarise_queries(per).to_string())
    xl = per[per["kind"].isin(FR_KINDS)]
    print(f"EN<->FR query recall at flag threshold: {xl['hit_flagged'].mean():.3f} (n={len(xl)})")
    enfr = pt[(pt["pair_type"] == "ca_programs_en_fr") & (pt["label"] == 1)]
    rate = (enfr["score"] >= det.params.overlap_at).mean()
    print(f"EN<->FR pair recall at flag threshold: {rate:.3f} (n={len(enfr)})")
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        pt.to_csv(Path(args.out) / f"pairs_{split}_{args.encoder}.csv", index=False)
        per.to_csv(Path(args.out) / f"queries_{split}_{args.encoder}.csv", index=False)


def trap_portfolio() -> Path:
    mini = read(REPO / "tests" / "data" / "mini_portfolio.csv")
    canon = pd.DataFrame(
        {
            "id": mini["id"],
            "title": mini["title"],
            "description": mini["description"],
            "department": mini["department"],
            "owner_name": mini["owner_name"],
            "owner_email": mini["owner_contact"],
            "status": mini["status"],
            "start_date": "",
            "language": mini["language"].replace({"en+fr": "en"}),
            "source": mini["source"],
        }
    )
    both = pd.concat([read(TRAPS / "portfolio.csv"), canon], ignore_index=True)
    out = REPO / "build" / "traps_portfolio.csv"
    out.parent.mkdir(exist_ok=True)
    if not out.exists() or read(out).shape != both.shape:
        both.to_csv(out, index=False)
    return out


def traps(args: argparse.Namespace) -> None:
    port = trap_portfolio()
    det = open_index(args.encoder, port, Path(f"build/idx_traps_{args.encoder}"))
    thr = det.params.overlap_at
    print(f"encoder {det.encoder.model_id}; scorer {det.params.version}: overlap_at={thr}")
    pt = pair_table(det, read(TRAPS / "pairs.csv"))
    print(pair_report(pt, thr).to_string(index=False))
    qf = read(TRAPS / "queries.csv")
    figs, per = query_report(det, qf, qf.set_index("query_id")["kind"])
    print(f"\n## trap queries: {figs}")
    print(summarise_queries(per).to_string())
    sdp = per[per["kind"] == "sdp"]["any_flag"].mean()
    sdp_pairs = (pt.loc[pt["pair_type"] == "sdp", "score"] >= thr).mean()
    print(f"same-domain-different-problem flagged: queries {sdp:.3f}, pairs {sdp_pairs:.3f}")
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        pt.to_csv(Path(args.out) / f"trap_pairs_{args.encoder}.csv", index=False)
        per.to_csv(Path(args.out) / f"trap_queries_{args.encoder}.csv", index=False)


def written_portfolio(pairs: pd.DataFrame, out: Path) -> pd.DataFrame:
    """Inline written pairs as a portfolio (one record per distinct side) and id pairs over it,
    so that they are scored as `dedupe evaluate` scores a small portfolio (its own IDF,
    boilerplate and acronyms)."""

    def sides(s: str) -> list[tuple[str, str, str, str]]:
        cols = [pairs[f"{c}_{s}"] for c in ("title", "text", "dept", "lang")]
        return list(zip(*cols, strict=True))

    ids: dict[tuple[str, str, str], str] = {}
    rows = []
    for t, d, dep, lang in sides("a") + sides("b"):
        if (t, d, dep) not in ids:
            ids[(t, d, dep)] = f"w{len(ids):04d}"
            rows.append([ids[(t, d, dep)], t, d, dep, lang])
    frame = pd.DataFrame(rows, columns=["id", "title", "description", "department", "language"])
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.exists() or read(out).shape != frame.shape:
        frame.to_csv(out, index=False)
    return pd.DataFrame(
        {
            "id_a": [ids[side[:3]] for side in sides("a")],
            "id_b": [ids[side[:3]] for side in sides("b")],
            "label": pairs["label"],
            "pair_type": pairs["pair_type"],
        }
    )


def inline_pairs(portfolio: Path, pairs: pd.DataFrame) -> pd.DataFrame:
    """Id pairs over `portfolio` with both sides' title, text and department inline."""
    port = read(portfolio).set_index("id")
    out = pd.DataFrame({"label": "", "pair_type": pairs["pair_type"]})
    for s in "ab":
        ids = pairs[f"id_{s}"]
        out[f"title_{s}"] = ids.map(port["title"])
        out[f"text_{s}"] = ids.map(port["description"])
        out[f"dept_{s}"] = ids.map(port["department"])
    positive = pairs["label"].str.strip().str.lower().isin(POSITIVE)
    out["label"] = positive.astype(int).astype(str)
    return out


def written(args: argparse.Namespace) -> None:
    """The hand-written sets: the blind sets (portfolio, pairs, queries, written without
    seeing the tool) and the written pairs (each side a record of one small portfolio). Not
    fitted on."""
    sets: list[tuple[str, str, Path, pd.DataFrame, Path | None]] = [
        (
            name,
            key,
            WRITTEN / key / "portfolio.csv",
            read(WRITTEN / key / "pairs.csv"),
            WRITTEN / key / "queries.csv",
        )
        for key, name in BLIND_SETS.items()
    ]
    sets.append(("written pairs", "writt", *inline_set("pairs"), None))
    # the tune pairs: training data (the fit's English/French intercept and slope use their
    # cross-language pairs), scored the same way
    sets.append(("tune pairs", "tune", *inline_set("tune"), None))
    for name, key, portfolio, id_pairs, queries in sets:
        det = open_index(args.encoder, portfolio, REPO / "build" / f"idx_{key}_{args.encoder}")
        thr = det.params.overlap_at
        pt = pair_table(det, inline_pairs(portfolio, id_pairs))
        print(
            f"\n## {name}: {len(read(portfolio))} records, scorer {det.params.version}, "
            f"threshold {thr}"
        )
        print(pair_report(pt, thr).to_string(index=False))
        if queries is not None:
            qf = read(queries)
            figs, per = query_report(det, qf, qf.set_index("query_id")["kind"])
            print(f"\n## {name} queries: {figs}")
            print(summarise_queries(per).to_string())


def sanity(args: argparse.Namespace) -> None:
    """STS-B (Spearman of cosine vs gold) and MRPC (AP of cosine), read from ../shared only."""
    from scipy.stats import spearmanr

    det = open_index(args.encoder, trap_portfolio(), Path(f"build/idx_traps_{args.encoder}"))
    for name, path in (
        ("stsb", SHARED / "pairs_stsb" / "stsb.csv"),
        ("mrpc", SHARED / "pairs_mrpc" / "mrpc.csv"),
    ):
        f = read(path)
        if "split" in f.columns and (f["split"] == "test").any():
            f = f[f["split"] == "test"]
        a_col = next(c for c in f.columns if c in ("sentence1", "text_a", "sentence_a", "s1"))
        b_col = next(c for c in f.columns if c in ("sentence2", "text_b", "sentence_b", "s2"))
        if args.limit:
            f = f.sample(n=min(args.limit, len(f)), random_state=0)
        cos = np.sum(embed(det, list(f[a_col])) * embed(det, list(f[b_col])), axis=1)
        if name == "stsb":
            gold = f[next(c for c in f.columns if c in ("score", "label", "similarity"))].astype(
                float
            )
            print(
                f"STS-B spearman(cosine, gold) = {spearmanr(cos, gold).statistic:.4f} (n={len(f)})"
            )
        else:
            y = f[next(c for c in f.columns if c in ("label", "quality"))].astype(int).to_numpy()
            print(f"MRPC AP(cosine) = {ap(y, cos):.4f} (n={len(f)})")


def main() -> None:
    ap_ = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap_.add_argument("command", choices=["fit", "report", "traps", "sanity", "written"])
    ap_.add_argument("--encoder", default="use")
    ap_.add_argument("--eval", default=str(REPO / "build" / "eval"))
    ap_.add_argument("--split", default="holdout", choices=["tune", "holdout"])
    ap_.add_argument("--k", type=int, default=20)
    ap_.add_argument("--c", type=float, default=1.0)
    ap_.add_argument("--beta", type=float, default=1.0)
    ap_.add_argument("--hand-weight", type=float, default=0.1)
    ap_.add_argument("--limit", type=int, default=0)
    ap_.add_argument("--out", default="")
    ap_.add_argument("--traps-in-fit", action="store_true", help=argparse.SUPPRESS)
    args = ap_.parse_args()
    commands = {"fit": fit, "report": report, "traps": traps, "sanity": sanity, "written": written}
    commands[args.command](args)


if __name__ == "__main__":
    main()
