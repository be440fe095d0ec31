"""A portfolio of twenty records (the trap set alone, the README's `evaluate` example) with the
real model: the shipped reference frequencies keep its domain words from reading as rare."""

from __future__ import annotations

from pathlib import Path

from dedupe import build as build_mod
from dedupe.evaluate import evaluate
from dedupe.match.idf import reference_frequencies

TRAPS = Path(__file__).resolve().parent / "data" / "traps"


def _same_domain_flagged(where: Path, encoder) -> tuple[float, float]:
    result = evaluate(
        portfolio=TRAPS / "portfolio.csv",
        queries=TRAPS / "queries.csv",
        encoder=encoder,
        index_dir=where,
    )
    assert result.queries is not None
    sdp = next(g for g in result.details.queries_by_kind if g.group == "sdp")
    assert sdp.n == 12 and sdp.flagged_new is not None
    return sdp.flagged_new, result.queries.false_flag_rate


def test_the_reference_halves_the_small_portfolios_false_flags(
    tmp_path: Path, use_encoder, monkeypatch
) -> None:
    with_reference = _same_domain_flagged(tmp_path / "a", use_encoder)
    monkeypatch.setattr(build_mod, "reference_frequencies", lambda: None)
    without = _same_domain_flagged(tmp_path / "b", use_encoder)
    assert reference_frequencies().n_documents > 0
    # measured: same-domain proposals flagged 3 of 12 (5 without), new proposals 0.125 (0.208)
    assert with_reference[0] <= 3 / 12 < without[0]
    assert with_reference[1] <= 0.13 < without[1]
