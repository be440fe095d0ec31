"""`Detector`: the one object the faces use — ingest into an index, check a proposal, list pairs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from dedupe import explain
from dedupe.build import build_generation, scored_text
from dedupe.check import check_proposal, find_candidates
from dedupe.departments import closest_departments
from dedupe.embed.encoder import Encoder, encoder_for_model_id, get_encoder
from dedupe.errors import IndexNotFoundError
from dedupe.index.manifest import MANIFEST, read_manifest
from dedupe.index.scored import ScoredTexts, open_scored
from dedupe.index.sentences import SentenceVectors, open_sentences
from dedupe.index.store import PortfolioIndex, record_from_values
from dedupe.ingest import load_files
from dedupe.ingest.mapping import ColumnMapping
from dedupe.match.acronyms import Acronyms
from dedupe.match.adapter import DenseAdapter, Projection, load_adapter
from dedupe.match.boilerplate import Boilerplate, source_key
from dedupe.match.features import pair_features
from dedupe.match.homonyms import record_senses
from dedupe.match.lexical import LexicalModel
from dedupe.match.reasons import SentenceCache
from dedupe.match.scoring import ScorerParams, default_params
from dedupe.pairs import find_pairs
from dedupe.records import (
    ALL_FIELDS,
    IngestSummary,
    Pair,
    Reason,
    Record,
)

log = logging.getLogger(__name__)

# Below this many initiatives the portfolio's own TF-IDF weights run high (README, "Very small
# portfolios"): `small_portfolio_note`.
SMALL_PORTFOLIO = 50

Progress = Callable[[int], None]


class Detector:
    """Index + encoder + scorer. Build with `Detector.open(path)`; `__init__` only stores."""

    def __init__(
        self,
        index: PortfolioIndex,
        encoder: Encoder,
        lexical: LexicalModel,
        params: ScorerParams,
        boilerplate: Boilerplate | None = None,
        acronyms: Acronyms | None = None,
        scored: ScoredTexts | None = None,
    ) -> None:
        self.index = index
        self.encoder = encoder
        self.lexical = lexical
        self.params = params
        self.boilerplate = boilerplate or Boilerplate()
        self.acronyms = acronyms or Acronyms()
        self._records: list[Record] | None = None
        self._some: dict[int, Record] = {}
        self._clean: dict[int, str] = {}
        self._scored = scored  # the texts ingest scored (None: computed when read)
        self._origins: np.ndarray | None = None
        self._position: dict[str, int] | None = None
        self._columns: dict[str, np.ndarray] = {}
        self._title_matrix: sp.csr_matrix | None = None
        self._acronym_senses: list[dict[str, str]] | None = None
        self._projection: tuple[str, Projection] | None = None  # (adapter name, index rows)
        self._title_queries = 0
        self._pool: ThreadPoolExecutor | None = None
        self._sentence_vectors: SentenceVectors | None | bool = False  # False: not opened yet
        self.sentences = SentenceCache(encoder.encode)  # sentences the index lacks, LRU

    # ----------------------------------------------------------------------------- open / build
    @classmethod
    def open(cls, path: str | Path, encoder: Encoder | str | None = None) -> Detector:
        """Open an index; the encoder defaults to the one recorded in its manifest."""
        path = Path(path)
        manifest = read_manifest(path)
        if isinstance(encoder, str):
            encoder = get_encoder(encoder)
        if encoder is None:
            encoder = encoder_for_model_id(manifest.model_id)
        index = PortfolioIndex.open(path, model_id=encoder.model_id)
        lexical = LexicalModel.load(path / manifest.files["lexical"].name)
        params = (
            ScorerParams.from_dict(manifest.scorer)
            if manifest.scorer
            else default_params(encoder.model_id)
        )
        bp_entry = manifest.files.get("boilerplate")
        boilerplate = Boilerplate.load(path / bp_entry.name) if bp_entry else Boilerplate()
        acr_entry = manifest.files.get("acronyms")
        acronyms = Acronyms.load(path / acr_entry.name) if acr_entry else Acronyms()
        scored = open_scored(path, manifest)
        return cls(index, encoder, lexical, params, boilerplate, acronyms, scored)

    @property
    def path(self) -> Path:
        return self.index.path

    @property
    def records(self) -> list[Record]:
        if self._records is None:
            self._records = self.index.records()
        return self._records

    def record(self, pos: int) -> Record:
        """The record at row `pos`, without building all of them (what `check` needs: turning
        every row of a large portfolio into a `Record` costs ~1 s per 15k)."""
        if self._records is not None:
            return self._records[pos]
        rec = self._some.get(pos)
        if rec is None:
            self.fetch([pos])
            rec = self._some[pos]
        return rec

    def fetch(self, positions: Sequence[int]) -> None:
        """Read these records' fields in one pass (a check's matches), for `record`."""
        if self._records is not None:
            return
        todo = [p for p in dict.fromkeys(positions) if p not in self._some]
        if todo:
            cols = [self.column(f)[todo] for f in ALL_FIELDS]
            for n, pos in enumerate(todo):
                values = {f: c[n] for f, c in zip(ALL_FIELDS, cols, strict=True)}
                self._some[pos] = record_from_values(values)

    def clean_text(
        self, title: str, description: str, source: str | None = None, department: str = ""
    ) -> str:
        """The text embedded and scored: boilerplate stripped (`source=None`: a proposal) and
        the portfolio's acronyms spelled out (the department's own meaning first)."""
        return scored_text(self.boilerplate, self.acronyms, title, description, source, department)

    def record_text(self, pos: int) -> str:
        """The stripped text of the indexed record at row `pos`: as ingest stored it, else
        computed (an index from before the texts were stored) and memoised."""
        if self._scored is not None:
            return self._scored[pos]
        text = self._clean.get(pos)
        if text is None:
            r = self.record(pos)
            key = source_key(r.source, self._origin(pos))
            text = self.clean_text(r.title, r.description, key, r.department)
            self._clean[pos] = text
        return text

    def column(self, name: str) -> np.ndarray:
        """One field of every indexed record as an object array (memoised): what scoring reads
        per candidate, without building `Record`s (pandas row access was ~6 ms a query)."""
        col = self._columns.get(name)
        if col is None:
            col = self._columns[name] = self.index.frame[name].to_numpy(dtype=object)
        return col

    @property
    def adapter(self) -> DenseAdapter | None:
        """The scorer's dense adapter (`dedupe.match.adapter`), if its parameters name one."""
        if not self.params.dense_adapter:
            return None
        return load_adapter(self.params.dense_adapter, self.params.dense_blend)

    def dense_feature(self, raw: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The scorer's dense feature for pairs whose raw cosine is `raw`. Each side, `a` and
        `b`, is either index row positions (1-D integers) or the vectors themselves (2-D, one
        row per pair or a single row for all): the raw cosine itself when the scorer has no
        adapter, else its blend with the adapted cosine."""
        adapter = self.adapter
        raw = np.asarray(raw, dtype=np.float64)
        if adapter is None or raw.size == 0:
            return raw
        return adapter.feature(raw, self._project(adapter, a), self._project(adapter, b))

    def _project(self, adapter: DenseAdapter, side: np.ndarray) -> Projection:
        side = np.asarray(side)
        if side.ndim == 2:
            return adapter.project(side)
        rows = side.astype(np.int64)
        cached = (
            self._projection if self._projection and self._projection[0] == adapter.name else None
        )
        if cached is None and len(rows) <= 1024:  # a check's candidates: just those
            return adapter.project(np.asarray(self.index.vectors[rows]))
        if cached is None:  # all pairs: the index's rows, once (2r + 1 numbers each)
            cached = self._projection = (adapter.name, adapter.project(self.index.vectors))
        return cached[1].take(rows)

    def acronym_senses(self) -> list[dict[str, str]]:
        """Per record: its meanings of the acronyms the portfolio defines two ways or more
        (`dedupe.match.homonyms.record_senses`; memoised)."""
        if self._acronym_senses is None:
            self._acronym_senses = record_senses(
                self.acronyms,
                self.lexical,
                self.column("title"),
                self.column("description"),
                self.column("department"),
            )
        return self._acronym_senses

    def position(self, record_id: str) -> int | None:
        """The row of the indexed record with this id (None: not indexed)."""
        if self._position is None:
            self._position = {str(i): n for n, i in enumerate(self.index.frame["id"].tolist())}
        return self._position.get(record_id)

    @property
    def sentence_vectors(self) -> SentenceVectors | None:
        """Every record's sentence vectors, computed at ingest (None: an older index)."""
        if self._sentence_vectors is False:
            sv = open_sentences(self.path, self.index.manifest)
            self._sentence_vectors = sv if sv is not None and len(sv) == len(self.index) else None
        got = self._sentence_vectors
        return got if isinstance(got, SentenceVectors) else None

    def record_sentence_vectors(
        self, positions: Sequence[int]
    ) -> list[tuple[list[str], np.ndarray]]:
        """(sentences, vectors) of indexed records: read from the index, or encoded (and kept in
        the LRU) for an index written before sentence vectors."""
        return explain.record_sentence_vectors(self, positions)

    def explain_rows(self, pairs: Sequence[tuple[int, int]]) -> list[Reason]:
        """Reasons for pairs of indexed records (rows), from their stored sentence vectors."""
        return explain.explain_rows(self, pairs)

    def _origin(self, pos: int) -> str:
        if self._origins is None:
            frame = self.index.frame
            self._origins = frame["origin"].to_numpy() if "origin" in frame.columns else None
            if self._origins is None:
                return ""
        return str(self._origins[pos])

    # ----------------------------------------------------------------------------- ingest
    @staticmethod
    def ingest(
        path: str | Path,
        files: Sequence[str | Path],
        *,
        mapping: ColumnMapping | str | Path | None = None,
        encoder: Encoder | str | None = None,
        format: str | None = None,
        source: str | None = None,
        rebuild: bool = False,
        progress: Progress | None = None,
        on_total: Callable[[int], None] | None = None,
        lock_timeout: float = 0,
    ) -> IngestSummary:
        """Read `files`, validate, embed what changed and write a new index generation.

        Each file is an origin (named `source`, or the file's stem): re-ingesting an origin adds,
        updates and removes its records; other origins are kept. A file that cannot be read is an
        `IngestError` and the index is left untouched.
        """
        loaded = load_files(files, mapping=mapping, format=format, source=source)
        return Detector.ingest_records(
            path,
            loaded,
            encoder=encoder,
            rebuild=rebuild,
            progress=progress,
            on_total=on_total,
            lock_timeout=lock_timeout,
            sources_from_file_names=source is None,
        )

    # Merge loaded records into the index and write its next generation (`dedupe.build`).
    ingest_records = staticmethod(build_generation)

    def small_portfolio_note(self) -> str:
        """A caution for an index of fewer than `SMALL_PORTFOLIO` initiatives ("" otherwise): its
        vocabulary is so small that a proposal's words no record has drop out of the comparison,
        and the few it shares weigh more (word weights are lent from a reference, which halves
        the effect, but not all of it: `dedupe.match.idf`)."""
        n = len(self.index)
        if n == 0 or n >= SMALL_PORTFOLIO:
            return ""
        return (
            f"the index holds {n} initiative{'s' if n != 1 else ''}: with so few, the few words "
            "a proposal shares with a record weigh more than in a large portfolio, so scores run "
            "high (a proposal in the same domain can be flagged); index other departments' "
            "records beside them, or calibrate from review decisions (`dedupe calibrate`)"
        )

    def department_matches(self, name: str, n: int = 3) -> tuple[bool, list[str]]:
        """Whether `name` is a department of the index, else the closest of its names (for
        "did you mean"; `dedupe.departments.closest_departments`): same-department matches are
        marked by the name alone."""
        return closest_departments(name, set(map(str, self.column("department"))), n)

    # ----------------------------------------------------------------------------- check
    # `check` ranks the indexed initiatives a proposal likely duplicates or overlaps;
    # `candidates` gives its nearest records and their pair features (`dedupe.check`).
    check = check_proposal
    candidates = find_candidates

    def encode_worker(self) -> ThreadPoolExecutor:
        """The one thread that encodes a query's sentences while `check` searches."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="dedupe-encode")
        return self._pool

    def title_rows(self, positions: Sequence[int]) -> sp.csr_matrix | None:
        """The records' title TF-IDF rows: from the second query on, a long-lived process keeps
        every title's row (one transform, ~1 s per 100k) instead of transforming the candidates'
        titles per query (~3 ms); a one-shot `check` does the latter (None)."""
        self._title_queries += 1
        if self._title_matrix is None:
            if self._title_queries < 2:
                return None
            self._title_matrix = self.lexical.transform(self.column("title").tolist())
        return self._title_matrix[list(positions)]

    def score_pairs(
        self,
        texts_a: Sequence[str],
        texts_b: Sequence[str],
        titles_a: Sequence[str],
        titles_b: Sequence[str],
        depts_a: Sequence[str],
        depts_b: Sequence[str],
        dense: np.ndarray,
        *,
        langs_a: Sequence[str] | None = None,
        langs_b: Sequence[str] | None = None,
    ) -> np.ndarray:
        """Calibrated probabilities for aligned pairs (texts already boilerplate-stripped)."""
        if len(texts_a) == 0:
            return np.zeros(0)
        x = self.pair_features(
            texts_a,
            texts_b,
            titles_a,
            titles_b,
            depts_a,
            depts_b,
            dense,
            langs_a=langs_a,
            langs_b=langs_b,
        )
        return self.params.probability(x)

    def pair_features(
        self,
        texts_a: Sequence[str],
        texts_b: Sequence[str],
        titles_a: Sequence[str],
        titles_b: Sequence[str],
        depts_a: Sequence[str],
        depts_b: Sequence[str],
        dense: np.ndarray,
        *,
        langs_a: Sequence[str] | None = None,
        langs_b: Sequence[str] | None = None,
        features: Sequence[str] | None = None,
        rows_a: sp.csr_matrix | None = None,
        rows_b: sp.csr_matrix | None = None,
        ntok_a: np.ndarray | None = None,
        ntok_b: np.ndarray | None = None,
        title_rows_a: sp.csr_matrix | None = None,
        title_rows_b: sp.csr_matrix | None = None,
        maybe_homonyms: Sequence[bool] | None = None,
    ) -> np.ndarray:
        """The scorer's feature matrix for aligned pairs (see `dedupe.match.features`); the
        optional TF-IDF rows and token counts are the texts' (and titles') own, precomputed."""
        return pair_features(
            dense=dense,
            lexical=self.lexical,
            texts_a=texts_a,
            texts_b=texts_b,
            titles_a=titles_a,
            titles_b=titles_b,
            depts_a=depts_a,
            depts_b=depts_b,
            langs_a=langs_a,
            langs_b=langs_b,
            features=tuple(features or self.params.features),
            rows_a=rows_a,
            rows_b=rows_b,
            ntok_a=ntok_a,
            ntok_b=ntok_b,
            title_rows_a=title_rows_a,
            title_rows_b=title_rows_b,
            maybe_homonyms=maybe_homonyms,
        )

    # ----------------------------------------------------------------------------- all pairs
    def pairs(
        self,
        *,
        k: int = 10,
        min_score: float | None = None,
        incremental: bool = True,
        exact: bool = False,
    ) -> list[Pair]:
        """Every pair of indexed initiatives at or above `min_score` (default: the overlap bar):
        k nearest neighbours per record, then the pair scorer (`dedupe.pairs.find_pairs`;
        `incremental` reuses the previous run's neighbour lists, same result; `exact`: exact
        neighbour lists from 10k records too, where the default search is clustered)."""
        return find_pairs(self, k=k, min_score=min_score, incremental=incremental, exact=exact)


def require_index(path: str | Path) -> Path:
    path = Path(path)
    if path.is_file():
        raise IndexNotFoundError(f"{path}: a file, not an index folder (give --index a folder)")
    if not (path / MANIFEST).exists():
        raise IndexNotFoundError(f"{path}: no index here; build one with `dedupe ingest`")
    return path
