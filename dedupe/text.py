"""Text normalisation, tokenising and language detection, shared by every stage."""

from __future__ import annotations

import html
import logging
import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, overload

import numpy as np

log = logging.getLogger(__name__)

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # C0 controls but tab/LF/CR, DEL
_TAG = re.compile(r"<\s*br\s*/?\s*>|</\s*p\s*>", re.IGNORECASE)


def normalize_text(value: object) -> str:
    """NFC, HTML entities decoded, control characters dropped, whitespace collapsed.

    Markup is *not* stripped (a title may legitimately mention `<script>`); faces escape on output.
    """
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN from pandas
        return ""
    text = str(value)
    if not text:
        return ""
    if "<" in text:
        text = _TAG.sub(" ", text)
    text = html.unescape(text)  # returns at once when there is no "&"
    if not text.isascii():  # NFC changes nothing in ASCII
        text = unicodedata.normalize("NFC", text)
    if _CONTROL.search(text):
        text = _CONTROL.sub("", text)
    out = " ".join(text.split())  # whitespace runs collapsed, ends stripped (any code point)
    # An unchanged value stays the same object: a record then shares its strings with the
    # source row the quarantine keeps, instead of holding a second copy of every text.
    return text if out == text else out


_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*", re.UNICODE)

# English and French function words; kept out of lexical scores and shared-term reasons.
STOPWORDS: frozenset[str] = frozenset(
    """a an and are as at be been but by can for from has have in into is it its of on or our
    that the their this to was were which will with within would not all also any more other such
    than these those through under over new use used using via per each may must should could
    le la les un une des du de d l et en au aux pour par sur dans avec est sont ce cette ces qui que
    son sa ses leur leurs ou à a été être plus ne pas se s qu il elle ils elles nous vous y
    """.split()
)


# Bumped when `tokenize` changes what it returns: a lexical model fitted with another version
# is not reused by the next ingest (its records' term counts are counted again). 2: elisions cut.
# 3: hyphens dropped inside a word (Wi-Fi and WiFi, e-mail and email are one term).
TOKENIZER_VERSION = 3

# French elisions (l'évaluation, d'impact, qu'il) and the English possessive ('s) are cut
# off so the word itself is the token: `l'infonuagique` and `infonuagique` are one term.
_ELISION = re.compile(r"^(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu|quoiqu)['’](?=\w)|['’]s$")


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens, accents kept, elisions cut, hyphens dropped inside a word
    (`Wi-Fi` -> `wifi`), stopwords and 1-letter tokens removed."""
    return [
        t
        for t in (_ELISION.sub("", w.lower()).replace("-", "") for w in _WORD.findall(text))
        if len(t) > 1 and t not in STOPWORDS
    ]


_SENT = re.compile(r"(?<=[.!?;])\s+(?=[A-ZÀ-ÖØ-Þ0-9«\"(])|\n+")


def split_sentences(text: str, min_chars: int = 12) -> list[str]:
    """Split a description into sentences; very short fragments are merged into the previous one."""
    parts = [p.strip() for p in _SENT.split(text) if p and p.strip()]
    out: list[str] = []
    for part in parts:
        if out and len(part) < min_chars:
            out[-1] = f"{out[-1]} {part}"
        else:
            out.append(part)
    return out or ([text.strip()] if text.strip() else [])


def user_cache_dir() -> Path:
    """Where derived copies of installed models live: $DEDUPE_CACHE_DIR, else ~/.cache/dedupe."""
    root = os.environ.get("DEDUPE_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "dedupe"
    )
    return Path(root)


@lru_cache(maxsize=1)
def _langid_model() -> object:
    """py3langid restricted to en/fr.

    The package ships its model LZMA-compressed and unpacks it on every start (~0.7-1.3 s of a
    cold `dedupe check`); the first start keeps an uncompressed copy in `user_cache_dir()`, read
    in a fraction of that. Any problem with the copy falls back to the package's own loader.
    """
    from importlib import metadata

    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    ident: Any = None
    copy = user_cache_dir() / f"py3langid-{metadata.version('py3langid')}-model.npz"
    try:
        ident = _langid_from_copy(copy, LanguageIdentifier)
    except Exception as exc:  # noqa: BLE001 - a bad copy is rewritten below
        log.info("language model copy %s unusable (%s); unpacking the package's", copy, exc)
    if ident is None:
        ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        _write_langid_copy(Path(MODEL_DIR) / MODEL_FILE, copy)
    ident.set_languages(["en", "fr"])
    return ident


def _langid_from_copy(copy: Path, cls: Any) -> Any:
    if not copy.is_file():
        return None
    from py3langid.modelio import _to_array

    with np.load(copy, allow_pickle=False) as data:
        return cls(
            np.asarray(data["ptc"]),
            np.asarray(data["pc"]),
            data["classes"].tolist(),
            _to_array(data["nextmove"]),
            data["out_feat"].tolist(),
            norm_probs=True,
            tk_row=_to_array(data["nextmove_row"]),
        )


def _write_langid_copy(model_file: str | Path, copy: Path) -> None:
    import lzma
    import shutil
    import tempfile

    try:
        copy.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=copy.parent)
        try:
            with os.fdopen(fd, "wb") as out, lzma.open(model_file) as src:
                shutil.copyfileobj(src, out, length=1 << 20)
            os.replace(tmp, copy)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except OSError as exc:
        log.info("could not keep an uncompressed language model in %s: %s", copy.parent, exc)


def detect_language(text: str) -> str:
    """`en` or `fr` (the languages portfolios here are written in); `""` for empty text."""
    if not text.strip():
        return ""
    ident = _langid_model()
    lang, _prob = ident.classify(text)  # type: ignore[attr-defined]
    return str(lang)


class LazyTexts(Sequence[str]):
    """Texts computed when read, `text_of(position)` for each of `positions`: the stripped texts
    of indexed rows (`pair_features` reads a text only when its precomputed TF-IDF row, token
    count or language is missing), "title. description" of every record for acronym learning."""

    def __init__(self, text_of: Callable[[int], str], positions: Sequence[int]) -> None:
        self._text_of = text_of
        self._positions = positions

    def __len__(self) -> int:
        return len(self._positions)

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self._text_of(p) for p in self._positions[i]]
        return self._text_of(self._positions[i])
