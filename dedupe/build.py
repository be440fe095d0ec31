"""Write a new index generation from loaded records: merge by origin, learn boilerplate, embed
only the texts that changed, refit TF-IDF from stored counts, write atomically under the lock."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from filelock import FileLock, Timeout

from dedupe.csvsafe import atomic_path
from dedupe.embed.cache import EmbeddingCache, content_hash, embed_with_cache
from dedupe.embed.encoder import Encoder, encoder_for_model_id, encoder_name_for, get_encoder
from dedupe.errors import (
    IndexCorruptError,
    IndexLockedError,
    IndexWriteError,
    ModelMismatchError,
    UsageError,
)
from dedupe.index.lock import LOCK_NAME, index_lock
from dedupe.index.manifest import MANIFEST, Manifest, read_manifest
from dedupe.index.scored import SCORED_ROLE, write_scored_texts
from dedupe.index.sentences import SentenceVectors, build_sentence_vectors, open_sentences
from dedupe.index.store import (
    IndexKind,
    PortfolioIndex,
    records_frame,
    vector_dtype,
    write_generation,
)
from dedupe.index.vectorfile import write_vector_file
from dedupe.ingest import LoadResult, dedupe_ids, write_quarantine
from dedupe.match.acronyms import Acronyms
from dedupe.match.boilerplate import Boilerplate, source_key
from dedupe.match.idf import REFERENCE_RECORDS, reference_frequencies
from dedupe.match.lexical import LexicalModel
from dedupe.records import IngestSummary
from dedupe.text import LazyTexts

log = logging.getLogger(__name__)

Progress = Callable[[int], None]
CACHE_NAME = "embeddings.sqlite"
EMBED_CHUNK = 16_384  # texts embedded per call (length-sorted batches within it)


def scored_text(
    boilerplate: Boilerplate,
    acronyms: Acronyms,
    title: str,
    description: str,
    source: str | None = None,
    department: str = "",
) -> str:
    """The text that is embedded and scored: title and boilerplate-stripped description
    (`source=None`: a proposal), acronyms spelled out with the department's meaning first."""
    return acronyms.expand(
        boilerplate.clean_text(title, description, source, department), department
    )


def build_generation(
    path: str | Path,
    loaded: LoadResult,
    *,
    encoder: Encoder | str | None = None,
    rebuild: bool = False,
    progress: Progress | None = None,
    on_total: Callable[[int], None] | None = None,
    lock_timeout: float = 0,
    keep_origins: Sequence[str] = (),
    lock: FileLock | None = None,
    sources_from_file_names: bool = False,
) -> IngestSummary:
    """Merge loaded records (origin name per record in `loaded.sources`) into the index at
    `path` and write its next generation (`Detector.ingest_records` is this).

    `lock`: the caller's own `index_lock(path)` when it already holds it for a longer job
    (the nightly report); FileLock is reentrant, so the write re-acquires it at no cost.

    Ids are unique across sources: a record whose id an other source's record already holds
    is quarantined, not swapped in. `sources_from_file_names` (each file its own source, named
    by its stem): a source last read from another file (`hc/portfolio.csv`, now
    `tc/portfolio.csv`) is refused rather than replaced; name the source to replace it.
    """
    path = Path(path)
    checked = dedupe_ids(loaded)
    records, origins, problems = checked.records, checked.sources, checked.problems
    lock = lock or index_lock(path, lock_timeout)
    try:
        lock.acquire()
    except Timeout:
        raise IndexLockedError(
            f"{path}: another dedupe process is writing this index (lock {path / LOCK_NAME}); "
            "wait for it to finish"
        ) from None
    try:
        for stale in path.glob(".*.tmp"):  # left by a killed writer; we hold the lock now
            stale.unlink(missing_ok=True)
        previous: Manifest | None = None
        old_frame: pd.DataFrame | None = None
        old_vectors: np.ndarray | None = None
        if (path / MANIFEST).exists() and not rebuild:
            previous = read_manifest(path)
            built_with = encoder_name_for(previous.model_id)
            if isinstance(encoder, str) and built_with not in (None, encoder.split(":")[0]):
                # refused before the other model is loaded (torch alone takes seconds)
                raise ModelMismatchError(
                    f"{path}: index was built with encoder {built_with!r} "
                    f"({previous.model_id}), not {encoder!r}; leave --encoder out, or rebuild "
                    f"it with `dedupe ingest --rebuild --encoder {encoder}`"
                )
            if encoder is None:
                encoder = encoder_for_model_id(previous.model_id)
            elif isinstance(encoder, str):
                encoder = get_encoder(encoder)
            old = PortfolioIndex.open(path, model_id=encoder.model_id)
            old_frame, old_vectors = old.frame, np.asarray(old.vectors)
        elif (path / MANIFEST).exists():
            try:
                previous = read_manifest(path)
            except IndexCorruptError as exc:  # --rebuild is the way out of a broken manifest
                log.warning("%s: --rebuild writes a fresh index", str(exc).split(";")[0])
                previous = None
        enc: Encoder = (
            get_encoder(encoder) if isinstance(encoder, str) or encoder is None else encoder
        )
        files_of = _files_by_origin(loaded, sources_from_file_names)
        if previous is not None and sources_from_file_names:
            _refuse_moved_sources(path, previous, files_of)
        if old_frame is not None and len(old_frame):
            # ids other sources keep in the index (those not re-read now)
            replaced = set(checked.sources) - set(keep_origins)
            kept_old = ~old_frame["origin"].isin(replaced).to_numpy()
            held = dict(zip(old_frame["id"][kept_old], old_frame["origin"][kept_old], strict=True))
            checked = dedupe_ids(checked, held=held)
            records, origins, problems = checked.records, checked.sources, checked.problems

        new_frame = records_frame(records, origins, [""] * len(records))

        # Merge: new records replace old ones with the same id; the origins being
        # re-ingested lose the records they no longer contain; other origins are kept.
        replaced_origins = set(origins) - set(keep_origins)
        added = updated = unchanged = removed = 0
        if old_frame is not None and len(old_frame):
            new_ids = set(new_frame["id"])
            keep_mask = ~old_frame["id"].isin(new_ids) & ~old_frame["origin"].isin(replaced_origins)
            removed = int(
                (~old_frame["id"].isin(new_ids) & old_frame["origin"].isin(replaced_origins)).sum()
            )
            added, updated, unchanged = _count_changes(old_frame, new_frame)
            kept_frame = old_frame[keep_mask.to_numpy()]
            kept_rows = np.flatnonzero(keep_mask.to_numpy())  # their rows in old_vectors
        else:
            added = len(new_frame)
            kept_frame = new_frame.iloc[0:0]
            kept_rows = np.zeros(0, dtype=np.int64)

        frame = pd.concat([kept_frame, new_frame], ignore_index=True)
        # Boilerplate is learned per source (templates per department) over the whole merged
        # portfolio; the embedded and scored text of every record is its title + stripped
        # description.
        src_keys = [source_key(s, o) for s, o in zip(frame["source"], frame["origin"], strict=True)]
        titles, descriptions = frame["title"].tolist(), frame["description"].tolist()
        departments = frame["department"].tolist()
        boilerplate = Boilerplate.learn(
            descriptions, src_keys, departments=departments, titles=titles
        )
        # Acronyms defined anywhere in the portfolio are spelled out where a text only uses them.
        acronyms = Acronyms.learn(
            # made when read: a list was a second copy of every text (~0.35 GB at 1M records)
            LazyTexts(lambda i: f"{titles[i]}. {descriptions[i]}", range(len(titles))),
            departments,
            titles=titles,
        )
        clean = [
            scored_text(boilerplate, acronyms, t, d, k, dep)
            for t, d, k, dep in zip(titles, descriptions, src_keys, departments, strict=True)
        ]
        hashes = [content_hash(t) for t in clean]
        n_kept = len(kept_frame)
        reuse = np.zeros(len(frame), dtype=bool)
        if n_kept:
            reuse[:n_kept] = kept_frame["text_hash"].to_numpy() == np.asarray(hashes[:n_kept])
        todo = np.nonzero(~reuse)[0]
        if on_total is not None:
            on_total(len(todo))
        # Per new row, the previous generation's row with the same text (-1: a new text): what
        # the TF-IDF refit and the sentence vectors reuse.
        old_rows = _old_rows(old_frame, hashes)
        old_sentences = _previous_sentences(path, previous, old_frame)
        gen = (previous.generation + 1) if previous else 1
        cache = EmbeddingCache(path / CACHE_NAME)
        # The vectors file is written in row order as the texts are embedded, in the dtype it
        # is stored in (float16 for large portfolios): never the whole array in memory. A block
        # holds up to `EMBED_CHUNK` texts to embed (length-sorted batches within it).
        n_encoded = 0
        vec_path = path / f"vectors-{gen}.npy"

        def fill(lo: int, hi: int) -> np.ndarray:
            nonlocal n_encoded
            block = np.zeros((hi - lo, enc.dim), dtype=np.float32)
            mine = np.arange(lo, hi)
            again = mine[reuse[lo:hi]]  # kept rows (< n_kept) whose text did not change
            if len(again):
                assert old_vectors is not None
                block[again - lo] = old_vectors[kept_rows[again]]
            new = mine[~reuse[lo:hi]]
            if len(new):
                fresh, k = embed_with_cache(enc, [clean[i] for i in new], cache, progress=progress)
                block[new - lo] = fresh
                n_encoded += k
            return block

        try:
            vectors = write_vector_file(
                vec_path,
                len(frame),
                enc.dim,
                vector_dtype(len(frame)),
                fill,
                rows=_blocks(todo, len(frame)),
            )
            # Every record's sentences too (what a reason aligns); unchanged texts keep theirs.
            sent_path = path / f"sentences-{gen}.npy"
            offsets_path = path / f"sentence-offsets-{gen}.npy"
            _, n_sentences = build_sentence_vectors(
                clean,
                enc,
                cache,
                sent_path,
                offsets_path,
                old=old_sentences,
                old_row=old_rows if old_sentences is not None else None,
                progress=progress,
                on_total=None if on_total is None else (lambda m: on_total(len(todo) + m)),
            )
        finally:
            cache.close()
        frame["text_hash"] = hashes
        prev_lex = _previous_lexical(path, previous, old_frame)
        lexical = LexicalModel.fit(
            clean,
            previous=prev_lex,
            reuse=old_rows if prev_lex is not None else None,
            reference=reference_frequencies() if len(clean) < REFERENCE_RECORDS else None,
        )
        scored_path = path / f"scored-{gen}.arrow"  # what `check` reads per candidate
        with atomic_path(scored_path) as tmp:
            write_scored_texts(tmp, clean)
        clean.clear()  # embedded, split and fitted: ~0.5 GB of texts at a million records
        lex_path = path / f"lexical-{gen}.npz"
        with atomic_path(lex_path) as tmp:
            lexical.save(tmp)
        bp_path = boilerplate.save(path / f"boilerplate-{gen}.json")
        acr_path = acronyms.save(path / f"acronyms-{gen}.json")
        scorer = previous.scorer if previous and previous.model_id == enc.model_id else {}
        write_generation(
            path,
            frame=frame,
            vectors=vectors,
            model_id=enc.model_id,
            dim=enc.dim,
            previous=previous,
            kind=IndexKind.AUTO,
            scorer=scorer,
            origin_files={**(previous.origin_files if previous else {}), **files_of},
            extra_files={
                "lexical": lex_path,
                "boilerplate": bp_path,
                "acronyms": acr_path,
                "sentences": sent_path,
                "sentence_offsets": offsets_path,
                SCORED_ROLE: scored_path,
            },
        )
        qpath = write_quarantine(problems, path)
    except (OSError, sqlite3.Error) as exc:
        raise IndexWriteError(
            f"{path}: could not write the index ({getattr(exc, 'strerror', None) or exc}); "
            "the previous index is intact — free space or fix permissions, then re-run"
        ) from exc
    finally:
        lock.release()
    summary = IngestSummary(
        rows_in=loaded.rows_in,
        indexed=len(records),
        quarantined=len(problems),
        added=added,
        updated=updated,
        removed=removed,
        unchanged=unchanged,
        embedded=n_encoded,
        sentences_embedded=n_sentences,
        quarantine_path=str(qpath) if qpath else None,
        index_path=str(path),
        notes=tuple(loaded.notes),
    )
    log.info("ingest %s", summary)
    return summary


def _blocks(todo: np.ndarray, n: int, most: int = 8 * EMBED_CHUNK) -> list[int]:
    """Block boundaries for writing n vectors: a block holds `EMBED_CHUNK` texts to embed, or
    `most` rows, whichever ends first."""
    bounds = {int(b) for b in todo[EMBED_CHUNK::EMBED_CHUNK]}
    bounds.update(range(most, n, most))
    return sorted(bounds)


def _old_rows(old_frame: pd.DataFrame | None, hashes: list[str]) -> np.ndarray | None:
    """Per new row, the row of `old_frame` whose text hash it shares (-1: none); None without
    a previous generation."""
    if old_frame is None or not len(old_frame):
        return None
    row_of = {h: i for i, h in enumerate(old_frame["text_hash"].tolist())}
    return np.asarray([row_of.get(h, -1) for h in hashes], dtype=np.int64)


def _previous_lexical(
    path: Path, previous: Manifest | None, old_frame: pd.DataFrame | None
) -> LexicalModel | None:
    """The previous generation's TF-IDF model when `LexicalModel.fit` can reuse its term counts
    of every text it has already analysed (matched by text hash; the same model as a fit from
    scratch). None when nothing is usable."""
    entry = previous.files.get("lexical") if previous is not None else None
    if entry is None or old_frame is None or not len(old_frame):
        return None
    try:
        old = LexicalModel.load(path / entry.name)
    except (IndexCorruptError, OSError):
        return None
    if not old.can_reuse or old.matrix is None or old.matrix.shape[0] != len(old_frame):
        return None
    return old


def _previous_sentences(
    path: Path, previous: Manifest | None, old_frame: pd.DataFrame | None
) -> SentenceVectors | None:
    """The previous generation's sentence vectors, for the unchanged texts to keep (None: a
    first ingest, or an index written before sentence vectors)."""
    if previous is None or old_frame is None or not len(old_frame):
        return None
    old = open_sentences(path, previous)
    return old if old is not None and len(old) == len(old_frame) else None


def _count_changes(old: pd.DataFrame, new: pd.DataFrame) -> tuple[int, int, int]:
    """(added, updated, unchanged) ids of `new` against `old` (all but id, budget, text_hash)."""
    cols = [c for c in new.columns if c not in ("id", "budget", "text_hash")]
    old_by_id = old.drop_duplicates("id").set_index("id")
    present = new["id"].isin(old_by_id.index).to_numpy()
    added = int((~present).sum())
    if not present.any():
        return added, 0, 0
    sub = new[present]
    before = old_by_id.loc[sub["id"], cols].astype(str).to_numpy()
    same = (before == sub[cols].astype(str).to_numpy()).all(axis=1)
    unchanged = int(same.sum())
    return added, len(sub) - unchanged, unchanged


def _files_by_origin(loaded: LoadResult, from_file_names: bool) -> dict[str, list[str]]:
    """The files each source of this load was read from (absolute paths): each file its own
    source named by its stem, or all of them one named source. (A load of several named
    sources, the nightly report's, does not say which file is whose: nothing is recorded.)"""
    names = set(loaded.sources)
    if not from_file_names and len(names) != 1:
        return {}
    out: dict[str, list[str]] = {}
    for f in loaded.files:
        origin = Path(f).stem if from_file_names else next(iter(names))
        out.setdefault(origin, []).append(str(Path(f).resolve()))
    for origin, files in out.items() if from_file_names else ():
        if len(set(files)) > 1:
            raise UsageError(
                f"{len(set(files))} files are named {origin!r} ({', '.join(sorted(set(files)))}): "
                "each file is a source named after it, so one would replace the other. Ingest "
                "them one at a time, each with its own --source NAME"
            )
    return out


def _refuse_moved_sources(path: Path, previous: Manifest, files_of: dict[str, list[str]]) -> None:
    for origin, files in files_of.items():
        before = previous.origin_files.get(origin)
        if before and previous.origins.get(origin) and not set(before) & set(files):
            raise UsageError(
                f"source {origin!r} of {path} was read from {before[0]} "
                f"({previous.origins[origin]} records); {files[0]} has the same name, so "
                f"ingesting it would replace them. Give it its own name (--source NAME), or "
                f"--source {origin} to replace that source on purpose"
            )
