"""`evaluate`: score labelled pairs and intake queries through the same path as `check`.

Nothing is fitted on the pairs being scored: the index's scorer (shipped default or calibrated
from review decisions) decides, at its own flag threshold.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score

from dedupe.csvsafe import write_csv
from dedupe.detector import Detector
from dedupe.embed.encoder import Encoder
from dedupe.errors import IngestError
from dedupe.evaluate_details import Details, details
from dedupe.ingest.readers import read_table
from dedupe.records import Proposal
from dedupe.text import detect_language, normalize_text

POSITIVE = {
    "1", "1.0", "duplicate", "duplicates", "near duplicate", "overlap", "overlapping",
    "partial overlap", "true", "yes", "positive", "same", "match",
}  # fmt: skip
NEGATIVE = {
    "0", "0.0", "unrelated", "not related", "not a duplicate", "false", "no", "negative",
    "different", "distinct", "no match", "none",
}  # fmt: skip


@dataclass(frozen=True)
class PairFigures:
    n: int
    average_precision: float
    precision: float
    recall: float
    f1: float
    threshold: float


@dataclass(frozen=True)
class QueryFigures:
    n: int
    recall_at_5: float
    owner_hit_rate: float
    false_flag_rate: float


@dataclass(frozen=True)
class Evaluation:
    pairs: PairFigures | None
    queries: QueryFigures | None
    details: Details | None = None  # per pair type / query kind, and English↔French recall
    notes: tuple[str, ...] = ()  # cautions about the portfolio (not part of the figures)

    def to_json(self, *, with_details: bool = False) -> dict[str, Any]:
        """The figures (exactly `pairs` and `queries`; `details` too when asked)."""
        out: dict[str, Any] = {
            "pairs": asdict(self.pairs) if self.pairs else None,
            "queries": asdict(self.queries) if self.queries else None,
        }
        if with_details and self.details is not None:
            out["details"] = self.details.to_json()
        return out


def label_value(value: object) -> int | None:
    """1 for duplicate/overlap, 0 for unrelated (and their usual spellings), None otherwise."""
    v = " ".join(re.split(r"[\s_-]+", str(value).strip().lower()))  # not_related, Not-Related
    return 1 if v in POSITIVE else 0 if v in NEGATIVE else None


def _label(value: str, where: str) -> int:
    found = label_value(value)
    if found is None:
        raise IngestError(
            f"{where}: label {value!r} is not duplicate/overlap/unrelated (or 1/0, yes/no...)"
        )
    return found


_LIST_SEP = re.compile(r"[;|,]")


def _split(value: str) -> list[str]:
    """A list cell: ids or e-mails separated by `;` (or `|` or `,`)."""
    return [v.strip() for v in _LIST_SEP.split(str(value or "")) if v.strip()]


def _language(given: str, text: str) -> str:
    """`en`/`fr` as given (`en-CA`, `French`...), else detected from the text."""
    v = str(given or "").strip().lower()
    if v.startswith(("en", "fr")):
        return v[:2]
    return detect_language(text) if text.strip() else ""


def score_pair_table(detector: Detector, frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Score every pair of a pairs table (inline texts or ids in the index)."""
    missing = {"label"} - set(frame.columns)
    if missing or not (
        {"text_a", "text_b"} <= set(frame.columns) or {"id_a", "id_b"} <= set(frame.columns)
    ):
        raise IngestError(f"{source}: pairs need columns label and text_a/text_b or id_a/id_b")
    labels = [_label(v, f"{source} row {i + 2}") for i, v in enumerate(frame["label"])]
    inline = {"text_a", "text_b"} <= set(frame.columns)
    by_id = {r.id: r for r in detector.records}

    pos_of = {rid: i for i, rid in enumerate(detector.index.frame["id"])}

    def side(s: str) -> tuple[list[str], list[str], list[str], list[str]]:
        if inline:
            titles = [normalize_text(t) for t in frame.get(f"title_{s}", [""] * len(frame))]
            descs = [normalize_text(t) for t in frame[f"text_{s}"]]
            depts = [normalize_text(t) for t in frame.get(f"dept_{s}", [""] * len(frame))]
            texts = [
                detector.clean_text(t, d, department=dep)
                for t, d, dep in zip(titles, descs, depts, strict=True)
            ]
            return texts, titles, depts, [""] * len(texts)
        ids = list(frame[f"id_{s}"])
        absent = [i for i in ids if i not in by_id]
        if absent:
            raise IngestError(
                f"{source}: {len(absent)} pair ids are not in the portfolio, e.g. {absent[0]!r}"
            )
        recs = [by_id[i] for i in ids]
        texts = [detector.record_text(pos_of[i]) for i in ids]
        return (
            texts,
            [r.title for r in recs],
            [r.department for r in recs],
            [r.language for r in recs],
        )

    ta, tia, da, la = side("a")
    tb, tib, db, lb = side("b")
    if inline:
        va, vb = detector.encoder.encode(ta), detector.encoder.encode(tb)
    else:  # indexed records: their stored vectors
        vectors = np.asarray(detector.index.vectors)
        va = vectors[[pos_of[i] for i in frame["id_a"]]]
        vb = vectors[[pos_of[i] for i in frame["id_b"]]]
    dense = detector.dense_feature(np.sum(va * vb, axis=1), va, vb)
    scores = detector.score_pairs(ta, tb, tia, tib, da, db, dense, langs_a=la, langs_b=lb)
    out = pd.DataFrame(
        {
            "id_a": frame.get("id_a", pd.Series([""] * len(frame))).tolist(),
            "id_b": frame.get("id_b", pd.Series([""] * len(frame))).tolist(),
            "label": labels,
            "score": scores,
            "flagged": scores >= detector.params.overlap_at,
        }
    )
    for extra in ("pair_type", "language"):
        if extra in frame.columns:
            out[extra] = frame[extra].tolist()
    for s, given, texts in (("a", la, ta), ("b", lb, tb)):
        for col in (f"lang_{s}", f"language_{s}"):
            if inline and col in frame.columns:
                given = [str(v) for v in frame[col]]
                break
        out[f"lang_{s}"] = [_language(g, t) for g, t in zip(given, texts, strict=True)]
    return out


def pair_figures(scored: pd.DataFrame, threshold: float) -> PairFigures:
    y = scored["label"].to_numpy()
    s = scored["score"].to_numpy()
    flagged = s >= threshold
    tp = int(np.sum(flagged & (y == 1)))
    precision = tp / max(int(flagged.sum()), 1)
    recall = tp / max(int((y == 1).sum()), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    ap = float(average_precision_score(y, s)) if 0 < y.sum() < len(y) else float("nan")
    return PairFigures(
        len(y), round(ap, 4), round(precision, 4), round(recall, 4), round(f1, 4), threshold
    )


def check_expected_ids(detector: Detector, frame: pd.DataFrame, source: str) -> None:
    """Every expected id must be an initiative of the portfolio: a typo would otherwise count
    silently as a miss. Raises IngestError naming the file, row and column."""
    if "expected_ids" not in frame.columns:
        return
    for i, value in enumerate(frame["expected_ids"]):
        for rid in _split(value):
            if detector.position(rid) is None:
                raise IngestError(
                    f"{source} row {i + 2}, column expected_ids: {rid!r} is not an id of the "
                    "portfolio (lists are separated by ; | or ,)"
                )


def run_queries(
    detector: Detector, frame: pd.DataFrame, progress: Callable[[int], None] | None = None
) -> tuple[QueryFigures, pd.DataFrame]:
    """The query figures and the top 10 of every query (query_id, rank, id, score, tier)."""
    figures, rows, _ = run_queries_detailed(detector, frame, progress)
    return figures, rows


def run_queries_detailed(
    detector: Detector, frame: pd.DataFrame, progress: Callable[[int], None] | None = None
) -> tuple[QueryFigures, pd.DataFrame, pd.DataFrame]:
    """`run_queries`, plus one outcome row per query: query_id, kind, n_expected,
    recall_at_5, expected_flagged, flagged, cross_language (the query's language differs
    from an expected initiative's)."""
    recalls: list[float] = []
    owner_hits: list[bool] = []
    false_flags: list[bool] = []
    rows: list[dict[str, Any]] = []
    outcomes: list[dict[str, Any]] = []
    languages = detector.column("language")
    for _, q in frame.iterrows():
        proposal = Proposal(
            title=normalize_text(q.get("title", "")),
            description=normalize_text(q.get("description", "")),
            department=normalize_text(q.get("department", "")),
            language=normalize_text(q.get("language", "")),
            id=str(q.get("query_id", "proposal")),
        )
        result = detector.check(proposal, limit=10, include_below=True)
        ranked = list(result.matches) + list(result.below)
        ranked = ranked[:10]
        for rank, m in enumerate(ranked, start=1):
            rows.append(
                {
                    "query_id": proposal.id,
                    "rank": rank,
                    "id": m.id,
                    "score": round(m.score, 4),
                    "tier": m.tier.value,
                }
            )
        expected = _split(q.get("expected_ids", ""))
        outcome: dict[str, Any] = {
            "query_id": proposal.id,
            "kind": str(q.get("kind", "") or ""),
            "n_expected": len(expected),
            "recall_at_5": float("nan"),
            "expected_flagged": False,
            "flagged": result.flagged,
            "cross_language": False,
        }
        if expected:
            top5 = {m.id for m in ranked[:5]}
            recalls.append(len(top5 & set(expected)) / min(len(expected), 5))
            emails = {e.lower() for e in _split(q.get("expected_owner_emails", ""))}
            if emails:
                suggested = {o.email.lower() for o in result.owners if o.email}
                owner_hits.append(bool(emails & suggested))
            q_lang = _language(proposal.language, proposal.text)
            at = [detector.position(e) for e in expected]
            e_langs = {
                _language(str(languages[p]), detector.record_text(p)) for p in at if p is not None
            }
            outcome.update(
                recall_at_5=recalls[-1],
                expected_flagged=bool({m.id for m in result.matches} & set(expected)),
                cross_language=bool(q_lang) and bool(e_langs - {q_lang, ""}),
            )
        else:
            false_flags.append(result.flagged)
        outcomes.append(outcome)
        if progress is not None:
            progress(1)
    figures = QueryFigures(
        n=len(frame),
        recall_at_5=round(float(np.mean(recalls)), 4) if recalls else float("nan"),
        owner_hit_rate=round(float(np.mean(owner_hits)), 4) if owner_hits else float("nan"),
        false_flag_rate=round(float(np.mean(false_flags)), 4) if false_flags else float("nan"),
    )
    top = pd.DataFrame(rows, columns=["query_id", "rank", "id", "score", "tier"])
    return figures, top, pd.DataFrame(outcomes)


def evaluate(
    *,
    portfolio: str | Path,
    pairs: str | Path | None = None,
    queries: str | Path | None = None,
    encoder: Encoder | str | None = None,
    index_dir: str | Path | None = None,
    scores_out: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> Evaluation:
    """Build an index from `portfolio` (in `index_dir`, or a temporary one) and score."""
    with tempfile.TemporaryDirectory(prefix="dedupe-eval-") as tmp:
        where = Path(index_dir) if index_dir else Path(tmp) / "index"
        Detector.ingest(where, [portfolio], encoder=encoder, source="portfolio", progress=progress)
        detector = Detector.open(where, encoder=encoder if not isinstance(encoder, str) else None)
        pair_result = query_result = None
        scored = qrows = outcomes = None
        if pairs:
            frame = read_table(pairs).frame
            scored = score_pair_table(detector, frame, str(pairs))
            pair_result = pair_figures(scored, detector.params.overlap_at)
        if queries:
            qframe = read_table(queries).frame
            check_expected_ids(detector, qframe, str(queries))
            query_result, qrows, outcomes = run_queries_detailed(detector, qframe, progress)
        if scores_out:
            out = Path(scores_out)
            out.mkdir(parents=True, exist_ok=True)
            if scored is not None:
                write_csv(scored, out / "pairs.csv")
            if qrows is not None:
                write_csv(qrows, out / "queries.csv")
        note = detector.small_portfolio_note()
    return Evaluation(
        pair_result, query_result, details(scored, outcomes), notes=(note,) if note else ()
    )
