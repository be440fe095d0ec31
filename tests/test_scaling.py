"""Library pieces behind the performance work: all-pairs candidates, index kinds, fast loading."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dedupe.detector import Detector
from dedupe.embed.fake import FakeEncoder
from dedupe.index.allpairs import candidate_pairs, knn_all, n_clusters
from dedupe.index.int8knn import Int8Vectors
from dedupe.index.knn_cache import KNN_CACHE, cached_knn
from dedupe.index.sentences import record_sentences
from dedupe.index.store import APPROX_FROM, HNSW_FROM, IndexKind, build_faiss, choose_kind
from dedupe.index.vectorfile import write_vector_file
from dedupe.match.features import char_similarity
from dedupe.match.lexical import LexicalModel
from dedupe.match.reasons import SentenceCache, explain_many
from dedupe.records import Proposal
from dedupe.text import tokenize

MINI = Path(__file__).parent / "data" / "mini_portfolio.csv"


def _unit(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _brute_pairs(v: np.ndarray, k: int) -> set[tuple[int, int]]:
    sims = v @ v.T
    np.fill_diagonal(sims, -np.inf)
    out = set()
    for i, row in enumerate(sims):
        for j in np.argsort(-row, kind="stable")[:k]:
            out.add((min(i, int(j)), max(i, int(j))))
    return out


def test_candidate_pairs_equal_brute_force_on_small_data() -> None:
    v = _unit(300)
    a, b, s = candidate_pairs(v, k=5)
    assert set(zip(a.tolist(), b.tolist(), strict=True)) == _brute_pairs(v, 5)
    assert (a < b).all()
    assert np.allclose(s, np.einsum("ij,ij->i", v[a], v[b]), atol=1e-5)


def test_clustered_knn_with_every_record_in_every_cluster_is_exact() -> None:
    v = _unit(400, seed=1)
    # clustered path, each record joins all 8 clusters: every pair is compared 8 times
    sims, pos = knn_all(v, 4, exact_below=10, spread=10_000, quantized=False)
    exact_s, exact_p = knn_all(v, 4)
    assert n_clusters(400) == 8
    assert (pos != np.arange(400)[:, None]).all()  # never its own neighbour
    assert all(len(set(row.tolist())) == 4 for row in pos)  # a pair found twice counts once
    assert np.allclose(np.sort(sims, axis=1), np.sort(exact_s, axis=1), atol=1e-5)
    assert _sorted_lists(sims, pos) == _sorted_lists(exact_s, exact_p)
    assert (np.diff(sims, axis=1) <= 0).all()  # best first


def test_int8_block_search_returns_the_largest_integer_products() -> None:
    v = _unit(300, dim=48, seed=8)
    int8 = Int8Vectors(v, threads=1)
    assert int8.q.dtype == np.int8 and np.abs(int8.q).max() == 127
    rows = np.arange(20, 220)
    values, local = int8.knn(rows, 6)
    q = int8.q[rows].astype(np.int32)
    full = q @ q.T
    expected = -np.sort(-full, axis=1)[:, :6]
    assert values.shape == (200, 6) and (values == expected).all()
    assert (np.take_along_axis(full, local, axis=1) == values).all()
    assert int8.knn(rows[:3], 6)[1].shape == (3, 3)  # k above the block size: the whole block


def test_int8_clustered_knn_differs_from_exact_only_at_near_ties() -> None:
    v = _unit(400, dim=64, seed=6)
    sims, pos = knn_all(v, 5, exact_below=10, spread=10_000)  # int8 products choose
    exact_s, exact_p = knn_all(v, 5)
    # the similarities reported are the float32 cosines of the neighbours listed, best first
    assert np.allclose(sims, np.einsum("nd,nkd->nk", v, v[pos]), atol=1e-6)
    assert (np.diff(sims, axis=1) <= 0).all()
    # a neighbour is missed only where the exact 5th is within the quantisation error of it
    for row in range(400):
        for j, s in zip(exact_p[row], exact_s[row], strict=True):
            assert j in pos[row] or s - sims[row, -1] < 0.005


def test_clustered_knn_pads_when_clusters_are_smaller_than_k() -> None:
    v = _unit(40, dim=8, seed=4)
    sims, pos = knn_all(v, 30, exact_below=10, spread=1)  # 8 clusters of ~5: < 30 neighbours
    assert ((pos == -1) == np.isneginf(sims)).all()
    assert (pos == -1).any() and (pos[:, 0] >= 0).all()


def test_clustered_knn_finds_close_pairs() -> None:
    base = _unit(200, dim=32, seed=2)
    twins = base + 0.05 * _unit(200, dim=32, seed=3)
    v = np.vstack([base, twins / np.linalg.norm(twins, axis=1, keepdims=True)])
    _, pos = knn_all(v, 3, exact_below=10)
    found = sum(int(i + 200 in pos[i]) for i in range(200))
    assert found >= 190


def test_index_kind_is_chosen_by_size() -> None:
    assert choose_kind(1000) is IndexKind.FLAT
    assert choose_kind(HNSW_FROM - 1) is IndexKind.FLAT
    assert choose_kind(HNSW_FROM) is IndexKind.HNSW
    assert choose_kind(APPROX_FROM - 1) is IndexKind.HNSW
    assert choose_kind(APPROX_FROM) is IndexKind.IVF_SQ8
    assert choose_kind(10, IndexKind.HNSW) is IndexKind.HNSW


@pytest.mark.parametrize("kind", [IndexKind.FLAT, IndexKind.SQ8, IndexKind.IVF_SQ8, IndexKind.HNSW])
def test_every_index_kind_finds_an_exact_copy(kind: IndexKind) -> None:
    v = _unit(2000, dim=32, seed=4)
    index, used = build_faiss(v.astype(np.float16), kind)
    assert used == kind.value and index.ntotal == 2000
    _, pos = index.search(v[:20], 1)
    assert (pos[:, 0] == np.arange(20)).all()


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_vector_file_is_written_and_read_in_blocks(tmp_path: Path, dtype: type) -> None:
    v = _unit(1000, dim=16, seed=5)
    calls: list[tuple[int, int]] = []

    def fill(lo: int, hi: int) -> np.ndarray:
        calls.append((lo, hi))
        return v[lo:hi]

    vf = write_vector_file(tmp_path / "v.npy", 1000, 16, dtype, fill, rows=[300, 0, 300, 999])
    assert calls == [(0, 300), (300, 999), (999, 1000)]
    whole = np.load(tmp_path / "v.npy")  # a plain .npy
    assert whole.dtype == dtype and np.array_equal(whole, v.astype(dtype))
    got = np.vstack([b for _, b in vf.blocks(rows=128)])
    assert np.array_equal(got, whole.astype(np.float32))
    some = np.array([0, 5, 127, 128, 640, 999])
    assert np.array_equal(vf.take(some, block=128), whole[some].astype(np.float32))
    # The index built from the file, block by block, is the one built from the array.
    for kind in (IndexKind.FLAT, IndexKind.IVF_SQ8):
        from_file, _ = build_faiss(vf, kind)
        from_array, _ = build_faiss(whole, kind)
        q = v[:50]
        assert np.array_equal(from_file.search(q, 5)[1], from_array.search(q, 5)[1])


def test_lexical_model_round_trip_and_old_format(tmp_path: Path) -> None:
    model = LexicalModel.fit(["cloud learning system", "learning management", "fisheries data"])
    model.save(tmp_path / "new.npz")
    loaded = LexicalModel.load(tmp_path / "new.npz")
    texts = ["cloud learning", "fisheries management data", "nothing known"]
    assert np.allclose(loaded.transform(texts).toarray(), model.transform(texts).toarray())
    assert np.allclose(
        loaded.transform(texts * 100).toarray()[:3], model.transform(texts).toarray()
    )
    terms = sorted(model._vocab, key=model._vocab.__getitem__)
    with open(tmp_path / "old.npz", "wb") as fh:  # the format before the UTF-8 blob
        np.savez_compressed(fh, terms=np.array(terms, dtype=str), idf=model._idf)
    old = LexicalModel.load(tmp_path / "old.npz")
    assert np.allclose(old.transform(texts).toarray(), model.transform(texts).toarray())
    assert old.idf("fisheries") == pytest.approx(model.idf("fisheries"))


def test_char_similarity_matches_scikit_learn_char_wb() -> None:
    from sklearn.feature_extraction.text import CountVectorizer

    a = ["Learning management system", "Système de paie", "x", "", "Online  booking"]
    b = ["learning-management systems", "Systeme de paye", "x", "abc", "online booking"]
    vec = CountVectorizer(analyzer="char_wb", ngram_range=(3, 5)).fit(a + b)
    ma, mb = vec.transform(a).toarray().astype(float), vec.transform(b).toarray().astype(float)
    norms = np.linalg.norm(ma, axis=1) * np.linalg.norm(mb, axis=1)
    want = np.divide((ma * mb).sum(axis=1), norms, out=np.zeros(len(a)), where=norms > 0)
    assert np.allclose(char_similarity(a, b), want)


def test_check_reads_only_the_records_it_needs(tmp_path: Path) -> None:
    csv = tmp_path / "p.csv"
    csv.write_text(
        "id,title,description,department\n"
        + "".join(
            f"r{i},Project {i},Work on topic {i % 7} and data {i},Dept {i % 3}\n" for i in range(60)
        ),
        encoding="utf-8",
    )
    Detector.ingest(tmp_path / "ix", [csv], encoder="fake")
    det = Detector.open(tmp_path / "ix")
    lazy = det.check(
        Proposal(title="Project 5", description="Work on topic 5 and data 5"),
        limit=5,
        include_below=True,
    )
    assert det._records is None  # no full Record list was built
    full = Detector.open(tmp_path / "ix")
    _ = full.records
    eager = full.check(
        Proposal(title="Project 5", description="Work on topic 5 and data 5"),
        limit=5,
        include_below=True,
    )
    assert lazy.to_json() == eager.to_json()


def _portfolio_csv(tmp_path: Path, n: int = 60) -> Path:
    csv = tmp_path / "p.csv"
    csv.write_text(
        "id,title,description,department\n"
        + "".join(
            f"r{i},Project {i % 11} platform,Work on topic {i % 7} and data {i}. "
            f"Second sentence about area {i % 5}.,Dept {i % 3}\n"
            for i in range(n)
        ),
        encoding="utf-8",
    )
    return csv


def test_candidate_features_from_stored_rows_equal_recomputed(tmp_path: Path) -> None:
    Detector.ingest(tmp_path / "ix", [_portfolio_csv(tmp_path)], encoder="fake")
    det = Detector.open(tmp_path / "ix")
    assert det.lexical.matrix is not None and det.lexical.n_tokens is not None
    prop = Proposal(title="Project 3 platform", description="Work on topic 3 and data 3.")
    cands = det.candidates(prop, k=20)
    pos = cands.positions
    recs = [det.record(p) for p in pos]
    redone = det.pair_features(  # every text transformed and tokenized again
        [cands.query_text] * len(pos),
        [det.record_text(p) for p in pos],
        [prop.title] * len(pos),
        [r.title for r in recs],
        [prop.department] * len(pos),
        [r.department for r in recs],
        cands.dense,
        langs_a=[prop.language] * len(pos),
        langs_b=[r.language for r in recs],
    )
    assert np.allclose(cands.features, redone, atol=1e-6)
    again = det.candidates(prop, k=20)  # the second query reads the kept title rows
    assert det._title_matrix is not None and again.positions == pos
    assert np.allclose(again.features, redone, atol=1e-6)
    lex = det.lexical
    texts = [det.record_text(p) for p in range(len(det.index))]
    assert np.allclose(lex.matrix.toarray(), lex.transform(texts).toarray(), atol=1e-6)
    assert lex.n_tokens.tolist() == [len(tokenize(t)) for t in texts]


def test_sentence_cache_encodes_each_sentence_once() -> None:
    calls: list[list[str]] = []

    def encode(texts: Sequence[str]) -> np.ndarray:
        calls.append(list(texts))
        return FakeEncoder().encode(list(texts))

    cache = SentenceCache(encode, maxsize=3)
    first = cache.encode(["a b", "c d", "a b"])
    assert calls == [["a b", "c d"]] and np.allclose(first[0], first[2])
    again = cache.encode(["c d", "e f"])
    assert calls[-1] == ["e f"] and np.allclose(again[0], first[1])
    cache.encode(["g h"])  # evicts the least recently used ("a b")
    cache.encode(["a b"])
    assert calls[-1] == ["a b"] and len(cache) == 3
    want = explain_many("a b. c d", ["c d. x y"], FakeEncoder().encode, None)
    assert explain_many("a b. c d", ["c d. x y"], cache.encode, None) == want


def test_ingest_stores_every_records_sentence_vectors(tmp_path: Path) -> None:
    rows = MINI.read_text(encoding="utf-8").splitlines()
    csv = tmp_path / "p.csv"
    csv.write_text("\n".join(rows[:81]) + "\n", encoding="utf-8")  # header + 80 real records
    s1 = Detector.ingest(tmp_path / "ix", [csv], encoder="fake")
    det = Detector.open(tmp_path / "ix")
    store = det.sentence_vectors
    assert store is not None and len(store) == len(det.index) == 80
    fake = FakeEncoder()
    distinct: set[str] = set()
    for pos in range(len(det.index)):
        sents = record_sentences(det.record_text(pos))
        assert store.count(pos) == len(sents) >= 1
        assert np.allclose(store.of(pos), fake.encode(sents), atol=2e-3)  # float16
        distinct.update(sents)
    texts = {det.record_text(p) for p in range(len(det.index))}  # a one-sentence text: cached
    assert s1.sentences_embedded == len(distinct - texts) > 160

    # One description edited: only its new sentence is encoded, the others are kept.
    frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
    frame.loc[5, "description"] += " A brand new closing sentence."
    frame.to_csv(csv, index=False)
    s2 = Detector.ingest(tmp_path / "ix", [csv], encoder="fake")
    assert (s2.updated, s2.embedded, s2.sentences_embedded) == (1, 1, 1)
    det2 = Detector.open(tmp_path / "ix")
    assert det2.sentence_vectors is not None
    for pos in range(len(det2.index)):
        sents = record_sentences(det2.record_text(pos))
        assert np.allclose(det2.sentence_vectors.of(pos), fake.encode(sents), atol=2e-3)


def test_reasons_from_stored_sentences_equal_encoding_them(tmp_path: Path) -> None:
    Detector.ingest(tmp_path / "ix", [_portfolio_csv(tmp_path)], encoder="fake")
    prop = Proposal(title="Project 3 platform", description="Work on topic 3. Area 2 as well.")
    stored = Detector.open(tmp_path / "ix")
    got = stored.check(prop, limit=8, include_below=True)
    assert stored.sentences.misses == 0  # nothing encoded for the records' side
    # An index written before sentence vectors: the reasons encode the sentences instead.
    older = Detector.open(tmp_path / "ix")
    older._sentence_vectors = None
    want = older.check(prop, limit=8, include_below=True)
    assert older.sentences.misses > 0
    pick = [(m.id, m.reason.sentence_a, m.reason.sentence_b) for m in got.matches + got.below]
    assert pick == [
        (m.id, m.reason.sentence_a, m.reason.sentence_b) for m in want.matches + want.below
    ]
    for a, b in zip(got.matches + got.below, want.matches + want.below, strict=True):
        assert a.reason.sentence_score == pytest.approx(b.reason.sentence_score, abs=2e-3)
        assert a.reason.shared_terms == b.reason.shared_terms
    rows = [(0, 1), (2, 5)]
    pairs = stored.explain_rows(rows)
    redo = [
        explain_many(older.record_text(a), [older.record_text(b)], FakeEncoder().encode, None)[0]
        for a, b in rows
    ]
    assert [(r.sentence_a, r.sentence_b) for r in pairs] == [
        (r.sentence_a, r.sentence_b) for r in redo
    ]


def _sorted_lists(sims: np.ndarray, pos: np.ndarray) -> list[set[int]]:
    return [set(p[p >= 0].tolist()) for p in pos]


def test_cached_knn_equals_a_full_run_after_adds_changes_and_removals(tmp_path: Path) -> None:
    v = _unit(300, dim=16, seed=5)
    keys = [f"r{i}:h0" for i in range(300)]
    s0, p0, redo0 = cached_knn(tmp_path, v, keys, 5, model_id="m")
    assert redo0 == 300 and _sorted_lists(s0, p0) == _sorted_lists(*knn_all(v, 5))
    # remove 4 rows, change 3 (new text: new key and vector), add 5 at the end
    keep = np.ones(300, dtype=bool)
    keep[[3, 50, 120, 299]] = False
    v2, keys2 = v[keep].copy(), [k for k, m in zip(keys, keep, strict=True) if m]
    for i in (0, 10, 200):
        v2[i] = _unit(1, dim=16, seed=100 + i)[0]
        keys2[i] = keys2[i].replace("h0", "h1")
    v2 = np.vstack([v2, _unit(5, dim=16, seed=7)])
    keys2 += [f"new{i}:h0" for i in range(5)]
    s2, p2, redo2 = cached_knn(tmp_path, v2, keys2, 5, model_id="m")
    full_s, full_p = knn_all(v2, 5)
    assert redo2 < len(v2) // 4  # most lists were merged, not searched again
    assert _sorted_lists(s2, p2) == _sorted_lists(full_s, full_p)
    assert np.allclose(np.sort(s2, axis=1), np.sort(full_s, axis=1), atol=1e-5)
    # same keys but other vectors (an index rebuilt under the same texts): nothing reused
    _, _, redo3 = cached_knn(tmp_path, _unit(len(v2), dim=16, seed=9), keys2, 5, model_id="m")
    assert redo3 == len(v2)


def test_incremental_pairs_equal_full_pairs(tmp_path: Path) -> None:
    rows = [
        f"r{i},Project {i % 13} platform,Work on topic {i % 7} and data {i % 17}. "
        f"About area {i % 5}.,Dept {i % 3}\n"
        for i in range(80)
    ]
    head = "id,title,description,department\n"
    csv = tmp_path / "p.csv"
    csv.write_text(head + "".join(rows), encoding="utf-8")
    Detector.ingest(tmp_path / "ix", [csv], encoder="fake")
    Detector.open(tmp_path / "ix").pairs(k=5, min_score=0.0)  # writes the kNN cache
    rows = rows[:70]  # 10 removed
    rows[5] = "r5,Project 5 platform,Entirely new scope for payroll and pensions.,Dept 1\n"
    rows[40] = "r40,Fishing licences,Online renewals for anglers and guides.,Dept 2\n"
    rows += [f"n{i},New project {i},Work on topic {i} and data {i}.,Dept 0\n" for i in range(6)]
    csv.write_text(head + "".join(rows), encoding="utf-8")
    Detector.ingest(tmp_path / "ix", [csv], encoder="fake")
    det = Detector.open(tmp_path / "ix")
    inc = det.pairs(k=5, min_score=0.0)
    full = Detector.open(tmp_path / "ix").pairs(k=5, min_score=0.0, incremental=False)
    key = {(p.id_a, p.id_b): p for p in full}
    assert {(p.id_a, p.id_b) for p in inc} == set(key)
    for p in inc:
        q = key[(p.id_a, p.id_b)]
        assert p.score == pytest.approx(q.score, abs=1e-6) and p.tier == q.tier
        assert p.similarity == pytest.approx(q.similarity, abs=1e-5)


def test_cached_knn_reuses_only_lists_as_exact_as_asked(tmp_path: Path) -> None:
    v = _unit(300, dim=16, seed=10)
    keys = [f"r{i}:h0" for i in range(300)]
    _, _, redo = cached_knn(tmp_path, v, keys, 5, model_id="m", exact_below=10)  # clustered
    assert redo == 300
    assert cached_knn(tmp_path, v, keys, 5, model_id="m", exact_below=10)[2] == 0  # reused
    s, p, redo = cached_knn(tmp_path, v, keys, 5, model_id="m")  # exact: not the clustered lists
    assert redo == 300 and _sorted_lists(s, p) == _sorted_lists(*knn_all(v, 5))
    old = dict(np.load(tmp_path / KNN_CACHE))  # a cache written before the flag existed
    del old["exact"]
    np.savez(tmp_path / KNN_CACHE, **old)
    assert cached_knn(tmp_path, v, keys, 5, model_id="m")[2] == 300


def test_exact_pairs_at_a_size_where_the_default_search_is_clustered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dedupe.index.allpairs as allpairs

    rows = [
        f"r{i},Project {i % 29} platform,Work on topic {i % 11} and data {i % 23}. "
        f"About area {i % 7}.,Dept {i % 4}\n"
        for i in range(400)
    ]
    csv = tmp_path / "p.csv"
    csv.write_text("id,title,description,department\n" + "".join(rows), encoding="utf-8")
    Detector.ingest(tmp_path / "ix", [csv], encoder="fake")
    det = Detector.open(tmp_path / "ix")
    exact = {(p.id_a, p.id_b) for p in det.pairs(k=5, min_score=0.0, incremental=False)}
    monkeypatch.setattr(allpairs, "EXACT_BELOW", 50)  # 400 records: the clustered search
    a, b, _ = allpairs.candidate_pairs(np.asarray(det.index.vectors, dtype=np.float32), 5)
    ids = det.column("id")
    clustered = {tuple(sorted((str(ids[i]), str(ids[j])))) for i, j in zip(a, b, strict=True)}
    assert clustered != exact  # the default search at this size is not the exact one
    for incremental in (False, True, True):
        got = det.pairs(k=5, min_score=0.0, incremental=incremental, exact=True)
        assert {(p.id_a, p.id_b) for p in got} == exact


def test_the_cli_starts_without_heavy_imports() -> None:
    """`dedupe check` is run cold by intake officers: the CLI must not import what only other
    commands need (torch, scikit-learn, SQLAlchemy/Alembic, networkx)."""
    import subprocess
    import sys

    heavy = ("torch", "sklearn", "sqlalchemy", "alembic", "networkx", "sentence_transformers")
    code = (
        "import sys, dedupe.cli; "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout


FIT_TEXTS = [
    "Cloud learning management system for employee training",
    "Payroll system replacement; payroll payroll integration with Phoenix",
    "Système de paie et intégration des données",
    "",
    "Fishing licences online, renewals and licences for anglers",
    "Cloud learning management system for employee training",  # a duplicate text
]


def test_lexical_fit_equals_scikit_learn() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from dedupe.match.lexical import _analyzer

    vec = TfidfVectorizer(analyzer=_analyzer, sublinear_tf=True, dtype=np.float32)
    want = vec.fit_transform(FIT_TEXTS).toarray()
    model = LexicalModel.fit(FIT_TEXTS)
    assert model._vocab == vec.vocabulary_
    assert np.allclose(model._idf, vec.idf_, rtol=1e-6)
    assert model.matrix is not None and np.allclose(model.matrix.toarray(), want, atol=1e-6)
    assert np.allclose(model.transform(FIT_TEXTS).toarray(), want, atol=1e-6)


def test_lexical_refit_reusing_unchanged_rows_equals_a_fresh_fit(tmp_path: Path) -> None:
    first = LexicalModel.fit(FIT_TEXTS)
    first.save(tmp_path / "lex.npz")
    old = LexicalModel.load(tmp_path / "lex.npz")
    assert old.can_reuse
    texts = [FIT_TEXTS[4], "A new text about payroll and cloud", FIT_TEXTS[1], FIT_TEXTS[2]]
    again = LexicalModel.fit(texts, previous=old, reuse=[4, -1, 1, 2])
    fresh = LexicalModel.fit(texts)
    assert again.terms == fresh.terms and np.allclose(again._idf, fresh._idf)
    assert again.matrix is not None and fresh.matrix is not None
    assert np.allclose(again.matrix.toarray(), fresh.matrix.toarray())
    assert again.n_tokens is not None and fresh.n_tokens is not None
    assert again.n_tokens.tolist() == fresh.n_tokens.tolist()
    assert again.counts is not None and fresh.counts is not None
    assert again.counts.tolist() == fresh.counts.tolist()


def test_reingest_refits_tfidf_from_stored_counts_as_a_fresh_fit(tmp_path: Path) -> None:
    from dedupe.build import _old_rows, _previous_lexical
    from dedupe.index.manifest import read_manifest
    from dedupe.match.idf import reference_frequencies

    csv = _portfolio_csv(tmp_path, 40)
    Detector.ingest(tmp_path / "ix", [csv], encoder="fake")
    lines = csv.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = "r2,Payroll,Entirely new payroll scope.,Dept 1\n"
    csv.write_text("".join(lines[:-2]), encoding="utf-8")  # one changed, two removed
    before = Detector.open(tmp_path / "ix")
    det_hashes = before.index.frame["text_hash"].tolist()
    old = _previous_lexical(tmp_path / "ix", read_manifest(tmp_path / "ix"), before.index.frame)
    reuse = _old_rows(before.index.frame, det_hashes)
    assert old is not None and reuse is not None and (reuse >= 0).all()
    Detector.ingest(tmp_path / "ix", [csv], encoder="fake")
    det = Detector.open(tmp_path / "ix")
    texts = [det.record_text(i) for i in range(len(det.index))]
    fresh = LexicalModel.fit(texts, reference=reference_frequencies())  # as ingest fits it
    assert det.lexical.terms == fresh.terms
    assert det.lexical.matrix is not None and fresh.matrix is not None
    assert np.allclose(det.lexical.matrix.toarray(), fresh.matrix.toarray())
    assert np.allclose(det.lexical._idf, fresh._idf)


def test_sentence_vectors_in_small_chunks_equal_one_pass(tmp_path: Path) -> None:
    from dedupe.index.sentences import build_sentence_vectors

    fake = FakeEncoder()
    texts = [f"Topic {i}. Work on part {i} of it. Report {i % 3} monthly." for i in range(25)]
    texts[4] = "One sentence only"
    whole, n1 = build_sentence_vectors(
        texts, fake, None, tmp_path / "a.npy", tmp_path / "a-off.npy", chunk=10_000
    )
    small, n2 = build_sentence_vectors(
        texts, fake, None, tmp_path / "b.npy", tmp_path / "b-off.npy", chunk=4
    )
    distinct = {x for t in texts for x in record_sentences(t)}
    assert n1 == len(distinct) == 52  # a sentence repeated in several texts is encoded once
    assert n2 >= n1  # (per chunk)
    assert (whole.offsets == small.offsets).all()
    assert np.array_equal(np.asarray(whole.vectors), np.asarray(small.vectors))
    # Rows kept from an older generation are copied, in any order, also in chunks.
    edited = [texts[7], "A new text. With two sentences.", *texts[:5]]
    old_row = [7, -1, 0, 1, 2, 3, 4]
    again, n3 = build_sentence_vectors(
        edited,
        fake,
        None,
        tmp_path / "c.npy",
        tmp_path / "c-off.npy",
        old=small,
        old_row=old_row,
        chunk=1,
    )
    assert n3 == 2  # only the new text's sentences were encoded
    for pos, text in enumerate(edited):
        assert np.allclose(again.of(pos), fake.encode(record_sentences(text)), atol=2e-3)


def test_records_are_written_in_row_groups_and_read_back_whole(tmp_path: Path) -> None:
    from dedupe.index.store import _write_records, records_frame
    from dedupe.records import Record

    recs = [
        Record(id=f"r{i}", title=f"T{i}", description="d" * i, department="D", budget=i or None)
        for i in range(10)
    ]
    frame = records_frame(recs, ["o"] * 10, [f"h{i}" for i in range(10)])
    _write_records(frame, tmp_path / "r.parquet", rows=3)
    import pyarrow.parquet as pq

    assert pq.ParquetFile(tmp_path / "r.parquet").num_row_groups == 4
    back = pd.read_parquet(tmp_path / "r.parquet")
    assert back.astype(object).equals(frame.astype(object))
