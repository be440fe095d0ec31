"""English↔French lexical similarity through a word lexicon learned from parallel texts.

TF-IDF cosine between a French text and an English one is ~0: they share names and acronyms,
not words. `Lexicon.translate` maps each French token to the English word it is most often
aligned with (`gestion` → `management`, `infonuagique` → `cloud`), so the pair can be compared
lexically with the portfolio's own TF-IDF model like any same-language pair.

The lexicon is learned by `learn_lexicon` from documents that exist in both languages (the
Government of Canada publishes its programs and services in English and French): the Dice
coefficient of a French and an English word over the documents where they occur, each French
word kept with its best English word. The shipped `lexicon_fr_en.tsv` is built by
`benchmarks/build_lexicon.py`; see the provenance in that file's first lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import numpy as np
import scipy.sparse as sp

from dedupe.errors import DedupeError
from dedupe.match.lexical import LexicalModel
from dedupe.text import tokenize

LEXICON_FILE = "lexicon_fr_en.tsv"
# A "French" text of which the lexicon knows fewer tokens than this is not translated (an
# English note that language detection read as French would otherwise score its plain word
# overlap as a translation). Measured on held-out records, title + 60 characters: 99.3% of
# French texts are above it, 92% of English ones below; full descriptions 100% / 96%.
MIN_COVERAGE = 0.15


@dataclass(frozen=True)
class Lexicon:
    """French token → English token (lower-case, as `dedupe.text.tokenize` writes them)."""

    fr_to_en: dict[str, str] = field(default_factory=dict)
    source: str = ""

    def __len__(self) -> int:
        return len(self.fr_to_en)

    def translate(self, text: str) -> str:
        """`text`'s tokens with every French word the lexicon knows replaced by its English
        word (unknown tokens, names and acronyms are kept as they are)."""
        return self.translate_counting(text)[0]

    def translate_counting(self, text: str) -> tuple[str, float]:
        """`translate`, and the share of the text's tokens the lexicon knows: ~0.7 for a
        typical French text, 0-0.2 for an English one (see `MIN_COVERAGE`)."""
        tokens = tokenize(text)
        out = [self.fr_to_en.get(t) for t in tokens]
        known = sum(o is not None for o in out)
        return (
            " ".join(o or t for o, t in zip(out, tokens, strict=True)),
            known / len(tokens) if tokens else 0.0,
        )

    def to_tsv(self) -> str:
        head = "".join(f"# {line}\n" for line in self.source.splitlines())
        body = "".join(f"{f}\t{e}\n" for f, e in sorted(self.fr_to_en.items()))
        return head + body

    @classmethod
    def from_tsv(cls, text: str, where: str = LEXICON_FILE) -> Lexicon:
        mapping: dict[str, str] = {}
        notes: list[str] = []
        for n, line in enumerate(text.splitlines(), start=1):
            if line.startswith("#"):
                notes.append(line[1:].strip())
                continue
            if not line.strip():
                continue
            parts = line.split("\t")
            if len(parts) != 2 or not parts[0] or not parts[1]:
                raise DedupeError(f"{where}, line {n}: expected 'french<TAB>english', got {line!r}")
            mapping[parts[0]] = parts[1]
        return cls(mapping, "\n".join(notes))


@lru_cache(maxsize=1)
def shipped_lexicon() -> Lexicon:
    """The lexicon shipped with the package (empty if the file is missing)."""
    try:
        text = resources.files("dedupe.match").joinpath(LEXICON_FILE).read_text("utf-8")
    except FileNotFoundError:
        return Lexicon()
    return Lexicon.from_tsv(text)


def learn_lexicon(
    english: Sequence[str],
    french: Sequence[str],
    *,
    min_dice: float = 0.25,
    min_count: int = 3,
    source: str = "",
) -> Lexicon:
    """Learn French → English word pairs from aligned documents (`english[i]` and `french[i]`
    say the same thing). A French word is kept with the English word of highest Dice
    coefficient over documents, when they co-occur in at least `min_count` documents and the
    coefficient is at least `min_dice`."""
    if len(english) != len(french):
        raise DedupeError(f"{len(english)} English texts but {len(french)} French ones")
    en, en_vocab = _incidence(english)
    fr, fr_vocab = _incidence(french)
    if not en_vocab or not fr_vocab:
        return Lexicon(source=source)
    co = (fr.T @ en).tocoo()
    df_en = np.asarray(en.sum(axis=0)).ravel()
    df_fr = np.asarray(fr.sum(axis=0)).ravel()
    keep = co.data >= min_count
    rows, cols, counts = co.row[keep], co.col[keep], co.data[keep]
    dice = 2.0 * counts / (df_fr[rows] + df_en[cols])
    # best English word per French word: sort by (row, -dice) and take each row's first
    order = np.lexsort((-dice, rows))
    rows, cols, dice = rows[order], cols[order], dice[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = rows[1:] != rows[:-1]
    fr_words = np.array(sorted(fr_vocab, key=fr_vocab.__getitem__), dtype=object)
    en_words = np.array(sorted(en_vocab, key=en_vocab.__getitem__), dtype=object)
    best = first & (dice >= min_dice)
    mapping = {
        str(f): str(e)
        for f, e in zip(fr_words[rows[best]], en_words[cols[best]], strict=True)
        if f != e  # names, numbers, acronyms: the same token in both languages
    }
    return Lexicon(mapping, source)


def _incidence(texts: Sequence[str]) -> tuple[sp.csr_matrix, dict[str, int]]:
    """Binary document × token matrix and the token → column map."""
    vocab: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    for i, text in enumerate(texts):
        # first-seen order, not `set` order (string hashes change per process): columns, and
        # so which of two equally good English words a French word keeps, are reproducible
        for token in dict.fromkeys(tokenize(text)):
            rows.append(i)
            cols.append(vocab.setdefault(token, len(vocab)))
    data = np.ones(len(rows), dtype=np.float32)
    matrix = sp.csr_matrix((data, (rows, cols)), shape=(len(texts), len(vocab)))
    return matrix, vocab


def translated_similarity(
    lexical: LexicalModel,
    texts_a: Sequence[str],
    texts_b: Sequence[str],
    langs_a: Sequence[str],
    langs_b: Sequence[str],
    lexicon: Lexicon | None = None,
    *,
    rows_a: sp.csr_matrix | None = None,
    rows_b: sp.csr_matrix | None = None,
) -> np.ndarray:
    """TF-IDF cosine of each English/French pair with its French side translated to English;
    0 for pairs in one language (their lexical similarity is the `lexical` feature).

    `rows_a` / `rows_b`: the texts' own TF-IDF rows when known (one row: the same text on
    every pair), used for the side that needs no translation; a text is read only when its
    side is French or has no row."""
    got = translated_rows(
        lexical, texts_a, texts_b, langs_a, langs_b, lexicon, rows_a=rows_a, rows_b=rows_b
    )
    return rows_similarity(got, len(langs_a))


TranslatedRows = tuple[list[int], sp.csr_matrix, sp.csr_matrix, np.ndarray]


def rows_similarity(got: TranslatedRows | None, n: int) -> np.ndarray:
    """`translated_similarity` of `n` pairs from their `translated_rows`."""
    out = np.zeros(n, dtype=np.float64)
    if got is not None:
        cross, side_a, side_b, ok = got
        sims = np.asarray(side_a.multiply(side_b).sum(axis=1)).ravel()
        out[cross] = np.where(ok, sims, 0.0)
    return out


def translated_rows(
    lexical: LexicalModel,
    texts_a: Sequence[str],
    texts_b: Sequence[str],
    langs_a: Sequence[str],
    langs_b: Sequence[str],
    lexicon: Lexicon | None = None,
    *,
    rows_a: sp.csr_matrix | None = None,
    rows_b: sp.csr_matrix | None = None,
) -> TranslatedRows | None:
    """What `translated_similarity` multiplies: the English/French pairs' indices, both sides'
    TF-IDF rows (French translated) and per pair whether both sides are read well enough
    (None: no such pair, or no lexicon)."""
    lex = lexicon if lexicon is not None else shipped_lexicon()
    cross = [
        i
        for i, (a, b) in enumerate(zip(langs_a, langs_b, strict=True))
        if a != b and {a, b} == {"en", "fr"}
    ]
    if not cross or not len(lex):
        return None
    side_a, ok_a = _side_rows(lexical, lex, texts_a, langs_a, cross, rows_a)
    side_b, ok_b = _side_rows(lexical, lex, texts_b, langs_b, cross, rows_b)
    return cross, side_a, side_b, ok_a & ok_b


def _side_rows(
    lexical: LexicalModel,
    lexicon: Lexicon,
    texts: Sequence[str],
    langs: Sequence[str],
    pairs: list[int],
    rows: sp.csr_matrix | None,
) -> tuple[sp.csr_matrix, np.ndarray]:
    """One side's TF-IDF rows for `pairs`: French texts translated (each distinct text once),
    the others from `rows` when given; and per pair, False where a French text's lexicon
    coverage is under `MIN_COVERAGE`."""
    fresh: dict[tuple[str, bool], int] = {}  # (text, French?) -> row of the transformed batch
    which: list[tuple[bool, int]] = []  # per pair: (transformed here?, row there / in `rows`)
    for i in pairs:
        if langs[i] == "fr" or rows is None:
            which.append((True, fresh.setdefault((texts[i], langs[i] == "fr"), len(fresh))))
        else:
            which.append((False, 0 if rows.shape[0] == 1 else i))
    done = [lexicon.translate_counting(t) if fr else (t, 1.0) for t, fr in fresh]
    coverage = np.array([c for _, c in done])
    parts = [lexical.transform([t for t, _ in done])] if done else []
    if rows is not None:
        parts.append(rows)
    offset = len(done)  # `rows` follow the transformed batch in the stack
    pick = np.array([j if new else offset + j for new, j in which], dtype=np.int64)
    ok = np.array([not new or coverage[j] >= MIN_COVERAGE for new, j in which], dtype=bool)
    return sp.csr_matrix(sp.vstack(parts, format="csr")[pick]), ok
