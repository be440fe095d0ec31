"""TF-IDF model: saved with its records' rows, and used to retrieve candidates in `check`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dedupe import Detector, Proposal
from dedupe.embed.fake import FakeEncoder
from dedupe.match import idf as idfmod
from dedupe.match import lexical as lexmod
from dedupe.match.lexical import LexicalModel

TEXTS = [
    "GCSI secret network onboarding for the department",
    "Fishing licence renewals online for anglers",
    "Payroll system replacement with Phoenix integration",
    "Weather radar imagery archive for researchers",
]


def test_search_ranks_by_shared_terms_and_survives_a_round_trip(tmp_path: Path) -> None:
    model = LexicalModel.fit(TEXTS)
    pos, score = model.search("onboarding to GCSI", 3)
    assert pos.tolist() == [0] and score[0] > 0  # only rows sharing a term come back
    model.save(tmp_path / "lex.npz")
    again = LexicalModel.load(tmp_path / "lex.npz")
    assert again.matrix is not None and (again.matrix != model.matrix).nnz == 0
    assert again.search("Phoenix payroll", 2)[0].tolist() == [2]


def test_search_breaks_ties_by_position_the_same_way_on_every_call() -> None:
    # 12 identical texts: every score ties; the first call multiplies the whole matrix, later
    # ones read the query terms' postings (another column order): same answer, lowest rows.
    model = LexicalModel.fit(["shared fleet telematics platform"] * 12 + TEXTS)
    first = model.search("fleet telematics", 5)
    for _ in range(3):
        again = model.search("fleet telematics", 5)
        assert again[0].tolist() == first[0].tolist() == [0, 1, 2, 3, 4]
        assert np.allclose(again[1], first[1])


def test_big_portfolios_keep_no_matrix(monkeypatch) -> None:
    texts = [*TEXTS, "Payroll system for the department", "payroll payroll payroll"]
    full = LexicalModel.fit(texts)
    monkeypatch.setattr(lexmod, "MATRIX_MAX_RECORDS", 3)
    model = LexicalModel.fit(texts)
    assert model.matrix is None
    assert model.search("GCSI", 3)[0].size == 0
    # Only document frequencies were counted: the same vocabulary, idf and transform.
    assert model.terms == full.terms
    assert np.array_equal(model._idf, full._idf)
    assert (model.transform(texts) != full.transform(texts)).nnz == 0


def test_check_adds_lexical_neighbours_to_dense_ones(tmp_path: Path, write_csv) -> None:
    rows = [
        {"id": f"r{i}", "title": t, "description": t, "department": f"Dept {i}"}
        for i, t in enumerate(TEXTS)
    ]
    Detector.ingest(tmp_path / "ix", [write_csv(rows)], encoder=FakeEncoder())
    det = Detector.open(tmp_path / "ix", encoder=FakeEncoder())
    proposal = Proposal(
        title="Fishing licence renewals online for anglers", description="Also the Phoenix payroll."
    )
    dense_only = det.candidates(proposal, k=1, lexical_k=0)
    hybrid = det.candidates(proposal, k=1, lexical_k=3)
    assert dense_only.positions == [1]
    assert hybrid.positions[0] == 1 and 2 in hybrid.positions[1:]
    assert hybrid.features.shape[0] == len(hybrid.positions) == len(hybrid.dense)
    vec = det.encoder.encode([hybrid.query_text])[0]
    expected = np.asarray(det.index.vectors[hybrid.positions], dtype=np.float32) @ vec
    assert np.allclose(hybrid.dense, expected, atol=1e-5)


def test_check_adds_the_records_nearest_by_the_title_alone(tmp_path: Path, write_csv) -> None:
    lab = "Lawrence Livermore National Laboratory (LLNL)"
    names = ["Mesh tools", "Solver kit", "Plasma code", "Graph library", "Quick mesh", "Dirty data"]
    rows = [
        {
            "id": f"r{i}",
            "title": t,
            "description": f"{t}: open source release from {lab} for simulation.",
            "department": "DOE",
        }
        for i, t in enumerate(names)
    ]
    rows.append(
        {
            "id": "qnd",
            "title": "Quick n Dirty",
            "description": "Python package for binary files in HDF5 and NetCDF formats.",
            "department": "DOE",
        }
    )
    Detector.ingest(tmp_path / "ix", [write_csv(rows)], encoder=FakeEncoder())
    det = Detector.open(tmp_path / "ix", encoder=FakeEncoder())
    proposal = Proposal(
        title="Quick n Dirty", description=f"Open source release from {lab} for simulation"
    )
    words_only = det.candidates(proposal, k=0, lexical_k=2, title_k=0)
    with_title = det.candidates(proposal, k=0, lexical_k=2, title_k=2)
    assert 6 not in words_only.positions  # the laboratory's records share more words
    assert with_title.positions == [*words_only.positions, 6]
    assert len(with_title.dense) == len(with_title.features) == 3
    title_only = Proposal(title="Quick n Dirty", description="")  # the text is the title:
    assert det.candidates(title_only, k=0, lexical_k=0, title_k=2).positions == []


def test_a_model_counted_with_an_older_tokenizer_is_not_reused(tmp_path: Path) -> None:
    model = LexicalModel.fit(TEXTS)
    model.save(tmp_path / "new.npz")
    again = LexicalModel.load(tmp_path / "new.npz")
    assert again.tokenizer == lexmod.TOKENIZER_VERSION and again.can_reuse
    with np.load(tmp_path / "new.npz") as data:  # as saved before the version was recorded
        arrays = {k: data[k] for k in data.files if k != "tokenizer"}
    np.savez(tmp_path / "old.npz", **arrays)
    old = LexicalModel.load(tmp_path / "old.npz")
    assert old.tokenizer == 1 and not old.can_reuse  # its rows are counted again
    refit = LexicalModel.fit(TEXTS, previous=old, reuse=np.arange(len(TEXTS)))
    assert refit.tokenizer == lexmod.TOKENIZER_VERSION and refit.can_reuse
    assert (refit.matrix != model.matrix).nnz == 0


def _ref(**df: int) -> idfmod.ReferenceFrequencies:
    return idfmod.ReferenceFrequencies(1000, dict(df))


def test_a_small_portfolio_borrows_the_references_frequencies() -> None:
    texts = ["kiosk inspection tablets", "risk inspection planning", "fleet telematics", "payroll"]
    own = LexicalModel.fit(texts)
    lent = LexicalModel.fit(texts, reference=_ref(inspection=900))  # common in the reference
    # in four records "inspection" (2 of 4) reads as rarer than it is; the reference has it in
    # 90% of its texts: it weighs less, every other word more, the same-domain texts share less
    assert lent.idf("inspection") < own.idf("inspection")
    assert lent.idf("inspection") < lent.idf("telematics")
    sim = [m.pair_similarity([texts[0]], [texts[1]])[0] for m in (own, lent)]
    assert sim[1] < sim[0]
    # a term the reference lacks is lent nothing: as rare as it is in the portfolio, or rarer
    assert lent.idf("telematics") >= own.idf("telematics")


def test_a_portfolio_of_reference_size_keeps_its_own_idf(monkeypatch) -> None:
    monkeypatch.setattr(idfmod, "REFERENCE_RECORDS", len(TEXTS))
    plain = LexicalModel.fit(TEXTS)
    same = LexicalModel.fit(TEXTS, reference=_ref(gcsi=900, payroll=500))
    assert np.array_equal(plain._idf, same._idf)
    assert (plain.matrix != same.matrix).nnz == 0


def test_the_shipped_reference_loads_and_ingest_lends_it(tmp_path: Path, write_csv) -> None:
    ref = idfmod.reference_frequencies()
    assert ref.n_documents > 10_000 and len(ref.df) > 10_000
    assert ref.df["management"] > ref.df["fisheries"] > 0  # English and French texts
    assert ref.df["gestion"] > 0 and "#documents" not in ref.df
    rows = [
        {"id": "a", "title": "Management of the zorblat", "description": "Zorblat management."},
        {"id": "b", "title": "Fishing licences", "description": "Licences online."},
    ]
    for r in rows:
        r["department"] = "Dept"
    Detector.ingest(tmp_path / "ix", [write_csv(rows)], encoder=FakeEncoder())
    det = Detector.open(tmp_path / "ix", encoder=FakeEncoder())
    # both words are in one record of two; the reference knows "management" as common
    assert det.lexical.idf("management") < det.lexical.idf("zorblat")
