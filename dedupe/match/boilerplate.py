"""Boilerplate stripping: keep administrative footers and template sentences out of scoring.

Intake tools append fields ("Priority: High. Gate: 2. Funding source: A-base.") and charters
carry the same budget / timeline / risk sentences; both make unrelated projects of one source
look alike. Two mechanisms remove them, on indexed records and on proposals alike:

* **learned segments**: per source, the sentences / fields that occur in many distinct
  descriptions (document frequency), learned at ingest and saved beside the index;
* **field patterns**: `Label: value` segments whose label is an administrative field (EN + FR),
  recognised without learning, so a proposal's footer is dropped even on a fresh index.

The title is never stripped; a description made only of boilerplate reduces to the title.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from dedupe.csvsafe import write_text
from dedupe.errors import IndexCorruptError

# Segment boundaries: whitespace after a sentence end or semicolon, pipes, bullets, newlines.
_SEG = re.compile(r"\s*[|•]\s*|(?<=[.!?;])\s+|\n+")
_KEY_DROP = re.compile(r"[^\w]+", re.UNICODE)
_DIGITS = re.compile(r"\d+")

_ADMIN_LABELS = (
    # English
    r"priority|priority level|business priority|privacy(?: impact)? assessment|pia|ptra|"
    r"security assessment|sa&a|gate|stage[- ]gate|gating|current gate|phase gate|"
    r"funding(?: source| sources| type)?|source of funds|cost(?: range| estimate| category)?|"
    r"estimated(?: total)? cost|total(?: project)? cost|budget(?: range)?|timeline|schedule|"
    r"start date|end date|target date|completion date|fiscal year|fy|risk(?: level| rating)?|"
    r"overall risk|complexity|status|project status|sponsor|executive sponsor|business owner|"
    r"project manager|contact|submitted by|prepared by|intake(?: id| number| no\.?)?|"
    r"request(?: id| number)|reference|ref\.?|classification|security classification|"
    r"approval(?: status)?|tier|investment tier|category|it category|attachments?|"
    # French
    r"priorité|niveau de priorité|évaluation des facteurs relatifs à la vie privée|efvp|"
    r"évaluation de la sécurité|porte|étape|jalon|source(?:s)? de financement|financement|"
    r"fourchette de coûts?|coût(?: estimatif| total| estimé)?|budget|échéancier|calendrier|"
    r"date de début|date de fin|exercice(?: financier)?|risque|niveau de risque|complexité|"
    r"statut|état|parrain|responsable|gestionnaire de projet|personne-ressource|soumis par|"
    r"numéro de (?:demande|référence)|référence|cote de sécurité|approbation|catégorie"
)
_FIELD = re.compile(
    rf"^\s*(?:{_ADMIN_LABELS})\s*(?:\([^)]{{0,30}}\))?\s*[:：=–—-]\s*\S.{{0,120}}$",
    re.IGNORECASE,
)


@lru_cache(maxsize=50_000)
def _segments(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in _SEG.split(text) if s and s.strip())


def segments(text: str) -> list[str]:
    """Split text into sentence / field segments (joined with " " they restore the words).

    Memoised: an ingest splits every description twice (learning, then stripping)."""
    return list(_segments(text))


def segment_key(segment: str) -> str:
    """Order- and punctuation-insensitive key of a segment (numbers folded to 0)."""
    return _KEY_DROP.sub(" ", _DIGITS.sub("0", segment.lower())).strip()


# A label inside a run of fields: capitalised, at most ~30 characters, then ':' or '='.
_RUN_LABEL = re.compile(r"(?:^|(?<=[\s/|;,·:–—-]))([A-ZÀ-Ý][\w&/()#.'’ -]{0,28}?)\s*[:=]\s*(?=\S)")
MIN_RUN_FIELDS = 3
MAX_RUN_VALUE_WORDS = 8


def is_field_run(segment: str) -> bool:
    """A segment of at least `MIN_RUN_FIELDS` short `Label: value` fields, whatever the labels
    ("Project #: P-25-0061 - Stage: Planning - Departmental priority: 3 of 5"): an intake tool's
    record of fields, not prose. Every value has at most `MAX_RUN_VALUE_WORDS` words."""
    found = list(_RUN_LABEL.finditer(segment))
    if len(found) < MIN_RUN_FIELDS:
        return False
    ends = [m.start() for m in found[1:]] + [len(segment)]
    return all(
        len(segment[m.end() : end].split()) <= MAX_RUN_VALUE_WORDS
        for m, end in zip(found, ends, strict=True)
    )


def is_admin_field(segment: str) -> bool:
    """A `Label: value` segment whose label is an administrative intake field, or a run of
    short fields (`is_field_run`)."""
    return bool(_FIELD.match(segment.strip().rstrip(".;|•"))) or is_field_run(segment)


@dataclass(frozen=True)
class Boilerplate:
    """Learned boilerplate segment keys per source (`""` = seen in several sources)."""

    by_source: dict[str, frozenset[str]] = field(default_factory=dict)
    min_df: int = 5

    @property
    def all_keys(self) -> frozenset[str]:
        out: set[str] = set()
        for keys in self.by_source.values():
            out |= keys
        return frozenset(out)

    @classmethod
    def learn(
        cls,
        descriptions: Sequence[str],
        sources: Sequence[str],
        *,
        min_df: int = 5,
        min_share: float = 0.01,
        min_words: int = 3,
    ) -> Boilerplate:
        """Segments in at least max(`min_df`, `min_share` × n) distinct descriptions of a source.

        Identical descriptions count once (a record listed once per version is not boilerplate).
        """
        per_source: dict[str, set[str]] = {}
        for desc, src in zip(descriptions, sources, strict=True):
            per_source.setdefault(src or "", set()).add(desc)
        learned: dict[str, frozenset[str]] = {}
        for src, descs in per_source.items():
            if len(descs) < min_df:
                continue
            df: Counter[str] = Counter()
            for d in descs:
                df.update({segment_key(s) for s in segments(d)})
            bar = max(min_df, int(min_share * len(descs)))
            keys = {k for k, c in df.items() if c >= bar and len(k.split()) >= min_words}
            if keys:
                learned[src] = frozenset(keys)
        return cls(by_source=learned, min_df=min_df)

    def strip(self, description: str, source: str | None = None) -> str:
        """The description without admin fields and learned boilerplate segments.

        `source=None` (a proposal) applies every source's learned segments.
        """
        if not description:
            return description
        keys = self.all_keys if source is None else self.by_source.get(source, frozenset())
        parts = segments(description)
        kept = [
            s for s in parts if not is_admin_field(s) and (not keys or segment_key(s) not in keys)
        ]
        return description if len(kept) == len(parts) else " ".join(kept)

    def clean_text(self, title: str, description: str, source: str | None = None) -> str:
        """The text that is embedded and scored: title and stripped description."""
        desc = self.strip(description, source)
        if title and desc:
            return f"{title}. {desc}"
        return title or desc or description

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, object]:
        return {
            "min_df": self.min_df,
            "by_source": {k: sorted(v) for k, v in sorted(self.by_source.items())},
        }

    def save(self, path: str | Path) -> Path:
        return write_text(json.dumps(self.to_dict(), ensure_ascii=False), Path(path))

    @classmethod
    def load(cls, path: str | Path) -> Boilerplate:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            by_source = {str(k): frozenset(str(x) for x in v) for k, v in data["by_source"].items()}
            return cls(by_source=by_source, min_df=int(data.get("min_df", 5)))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise IndexCorruptError(
                f"{path}: unreadable boilerplate model ({exc}); re-run ingest"
            ) from None


def strip_all(
    boilerplate: Boilerplate,
    titles: Iterable[str],
    descriptions: Iterable[str],
    sources: Iterable[str | None],
) -> list[str]:
    """`clean_text` for aligned lists."""
    return [
        boilerplate.clean_text(t, d, s)
        for t, d, s in zip(titles, descriptions, sources, strict=True)
    ]


def source_key(source: object, origin: object) -> str:
    """Boilerplate is learned per source: the record's `source` field, else its ingest origin."""
    s = str(source or "").strip()
    return s or str(origin or "")
