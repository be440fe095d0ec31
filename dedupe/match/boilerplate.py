"""Boilerplate stripping: keep administrative footers and template sentences out of scoring.

Intake tools append fields ("Priority: High. Gate: 2. Funding source: A-base.") and charters
carry the same budget / timeline / risk sentences; both make unrelated projects of one source
look alike. Three mechanisms remove them, on indexed records and on proposals alike:

* **learned segments**: per source, the sentences / fields that occur in many distinct
  descriptions (document frequency), learned at ingest and saved beside the index;
* **department templates**: per department, the sentences that recur verbatim in two or more
  of its descriptions written for unrelated projects (a charter template's "Risks:
  resourcing, vendor dependency." on two projects): below the document-frequency bar of a
  small portfolio, and never a re-described project's own sentences (its title, the words its
  sentence names, or its other words agree);
* **field patterns**: `Label: value` segments whose label is an administrative field (EN + FR),
  recognised without learning, so a proposal's footer is dropped even on a fresh index.

The title is never stripped; a description made only of boilerplate reduces to the title.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

from dedupe.csvsafe import write_text
from dedupe.errors import IndexCorruptError

# Segment boundaries: whitespace after a sentence end or semicolon, pipes, bullets, newlines.
_SEG = re.compile(r"\s*[|•]\s*|(?<=[.!?;])\s+|\n+")
_KEY_DROP = re.compile(r"[^\w]+", re.UNICODE)
_DIGITS = re.compile(r"\d+")
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_NONE: frozenset[str] = frozenset()

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
# An admin label, alone or in both languages ("Priorité / Priority: Élevée / High").
_ADMIN_LABEL = rf"(?:{_ADMIN_LABELS})(?:\s*/\s*(?:{_ADMIN_LABELS}))?"
_FIELD = re.compile(
    rf"^\s*{_ADMIN_LABEL}\s*(?:\([^)]{{0,30}}\))?\s*[:：=–—-]\s*\S.{{0,120}}$",
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


def _short_values(segment: str, found: list[re.Match[str]]) -> bool:
    """Every field's value (up to the next label) has at most `MAX_RUN_VALUE_WORDS` words."""
    ends = [m.start() for m in found[1:]] + [len(segment)]
    return all(
        len(segment[m.end() : end].split()) <= MAX_RUN_VALUE_WORDS
        for m, end in zip(found, ends, strict=True)
    )


def is_field_run(segment: str) -> bool:
    """A segment of at least `MIN_RUN_FIELDS` short `Label: value` fields, whatever the labels
    ("Project #: P-25-0061 - Stage: Planning - Departmental priority: 3 of 5"): an intake tool's
    record of fields, not prose. Every value has at most `MAX_RUN_VALUE_WORDS` words."""
    if segment.count(":") + segment.count("=") < MIN_RUN_FIELDS:  # a label each: cheap no
        return False
    found = list(_RUN_LABEL.finditer(segment))
    return len(found) >= MIN_RUN_FIELDS and _short_values(segment, found)


def _short_fields(segment: str) -> bool:
    """The segment is one or more short `Label: value` fields from its first word on, cut off
    by a pipe, bullet or line break (a sentence that ends in a full stop is prose)."""
    if not segment or segment[-1] in ".!?;" or (":" not in segment and "=" not in segment):
        return False
    found = list(_RUN_LABEL.finditer(segment))
    return bool(found) and found[0].start() == 0 and _short_values(segment, found)


def field_runs(parts: Sequence[str]) -> list[bool]:
    """Per segment, whether it belongs to a run of short fields split over consecutive segments
    ("Porte / Gate: 2 | Financement / Funding: A-base | DPF / CFO: Oui / Yes"): a footer the
    segment boundaries cut into single fields, counted as `is_field_run` counts one segment's."""
    short = [_short_fields(p.strip()) for p in parts]
    out = [False] * len(parts)
    start = 0
    for i in range(len(parts) + 1):
        if i == len(parts) or not short[i]:
            fields = sum(len(_RUN_LABEL.findall(parts[j])) for j in range(start, i))
            if fields >= MIN_RUN_FIELDS:
                out[start:i] = [True] * (i - start)
            start = i + 1
    return out


# An admin field glued to the end of a sentence without a full stop ("… (LLNL)) Priority: High").
_ADMIN_TAIL = re.compile(
    rf"(?<=\S)\s+(?=(?:{_ADMIN_LABEL})\s*(?:\([^)]{{0,30}}\))?\s*[:：=]\s*\S)", re.IGNORECASE
)
MAX_TAIL_WORDS = 6


def without_admin_tail(segment: str) -> str:
    """`segment` without an admin field glued to its end: a capitalised admin label and a value
    of at most `MAX_TAIL_WORDS` words ("… Laboratory (LLNL)) Priority: High" -> "…
    Laboratory (LLNL))"); the segment unchanged otherwise."""
    # A tail of at most MAX_TAIL_WORDS words starts after the text before its last words:
    # only that end of the segment is searched (the search was most of `strip`'s time).
    head = segment.rsplit(None, MAX_TAIL_WORDS)[0]
    at = len(segment) - len(segment.lstrip()) + len(head) - 1  # head's last character
    end = segment[at:]
    if ":" not in end and "=" not in end and "：" not in end:
        return segment
    matches = list(_ADMIN_TAIL.finditer(end))
    if not matches:
        return segment
    tail = end[matches[-1].end() :]
    if not tail[:1].isupper() or len(tail.split()) > MAX_TAIL_WORDS:
        return segment
    return segment[: at + matches[-1].start()]


def is_admin_field(segment: str) -> bool:
    """A `Label: value` segment whose label is an administrative intake field, or a run of
    short fields (`is_field_run`)."""
    return bool(_FIELD.match(segment.strip().rstrip(".;|•"))) or is_field_run(segment)


# Department templates: a segment of at least `TEMPLATE_MIN_WORDS` words in two or more of a
# department's distinct descriptions (admin fields aside), when at least half of the (sampled)
# pairs of them are unrelated projects: titles that share under half their letter trigrams
# ("FEMP Cyber Security Arsenal" / "FEMP Cybersecurity Arsenal" are one title) and no
# distinctive word the sentence uses ("Slurm is an open-source cluster…" names both "PowerSlurm"
# and "SLURM"), and other segments that share under `TEMPLATE_MAX_REST` of their words
# (Jaccard). A project described again (a version, another year, a phase) keeps its title or
# its other words, and its sentences.
TEMPLATE_MIN_WORDS = 3
TEMPLATE_MAX_REST = 0.2
_TEMPLATE_PAIRS = 30
# Words of many titles that name no project of their own.
GENERIC_TITLE_WORDS = frozenset(
    "management system systems service services data information project projects program "
    "programme programs solution solutions platform application applications portal online "
    "digital modernization modernisation replacement renewal enterprise tool tools support "
    "gestion système systèmes données projet programme solution plateforme portail outil".split()
)


def _content_words(parts: Iterable[str]) -> frozenset[str]:
    return frozenset(w.lower() for p in parts for w in _WORD.findall(p))


@lru_cache(maxsize=4096)
def _trigrams(letters: str) -> frozenset[str]:
    return frozenset(letters[i : i + 3] for i in range(len(letters) - 2))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def learn_templates(
    descriptions: Sequence[str],
    departments: Sequence[str],
    titles: Sequence[str] | None = None,
) -> dict[str, frozenset[str]]:
    """Per department, the segment keys its unrelated descriptions share (see above)."""
    per_dept: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for n, (desc, dept) in enumerate(zip(descriptions, departments, strict=True)):
        if desc:
            per_dept[dept or ""].setdefault(desc, []).append(titles[n] if titles else "")
    rng = random.Random(0)
    learned: dict[str, frozenset[str]] = {}
    for dept, unique in per_dept.items():
        if len(unique) >= 2:
            descs = sorted(unique)
            keys = _templates(descs, [" ".join(unique[d]) for d in descs], rng)
            if keys:
                learned[dept] = keys
    return learned


def _prose(description: str) -> list[tuple[str, str]]:
    """(key, segment) of a description's segments that are not admin fields: two records that
    differ only in their intake fields are one text."""
    parts = segments(description)
    return [
        (segment_key(s), s)
        for s, in_run in zip(parts, field_runs(parts), strict=True)
        if not in_run and not is_admin_field(s)
    ]


@lru_cache(maxsize=50_000)
def _keys_of(description: str) -> frozenset[str]:
    """The segment keys of a description (memoised like `segments`: the per-source pass and the
    template passes of one ingest read each description's keys once up to that size)."""
    return frozenset(segment_key(s) for s in segments(description))


def _templates(descs: Sequence[str], titles: Sequence[str], rng: random.Random) -> frozenset[str]:
    """One department's templates among its distinct descriptions (`titles`: each one's).

    Two passes over the keys (counted, then the holders of the shared ones) rather than every
    description's segments held at once: at 300k records that was +410 MB."""
    df: Counter[str] = Counter()
    for d in descs:
        df.update(_keys_of(d))
    shared = {k for k, c in df.items() if c >= 2 and len(k.split()) >= TEMPLATE_MIN_WORDS}
    del df
    if not shared:
        return frozenset()
    holders: dict[str, list[int]] = defaultdict(list)
    for i, d in enumerate(descs):
        for k in sorted(_keys_of(d) & shared):
            holders[k].append(i)
    prose: dict[int, list[tuple[str, str]]] = {}  # read for the sampled holders only
    held_by_any = sorted({i for held in holders.values() for i in held})
    letters = {i: "".join(_WORD.findall(titles[i].lower())) for i in held_by_any}

    def prose_of(i: int) -> list[tuple[str, str]]:
        if i not in prose:
            prose[i] = _prose(descs[i])
        return prose[i]

    def names_both(key: str, a: int, b: int) -> bool:
        """The sentence uses a word (4+ letters, not a generic one) both titles contain
        (Slurm: "PowerSlurm")."""
        return any(
            len(w) >= 4 and w not in GENERIC_TITLE_WORDS and w in letters[a] and w in letters[b]
            for w in key.split()
        )

    def unrelated(key: str, a: int, b: int) -> bool:
        pa, pb = prose_of(a), prose_of(b)
        ga, gb = _trigrams(letters[a]), _trigrams(letters[b])
        if ga and _jaccard(ga, gb) >= 0.5:
            return False
        if names_both(key, a, b):
            return False
        both = {k for k, _ in pa} & {k for k, _ in pb}
        rest_a = _content_words(s for k, s in pa if k not in both)
        rest_b = _content_words(s for k, s in pb if k not in both)
        return bool(rest_a and rest_b) and _jaccard(rest_a, rest_b) < TEMPLATE_MAX_REST

    keys = set()
    for k in sorted(holders):
        held = holders[k]
        if k not in {key for key, _ in prose_of(held[0])}:
            continue  # an intake field: stripped as such
        n = len(held)
        if n * (n - 1) // 2 <= _TEMPLATE_PAIRS:
            pairs = [(held[i], held[j]) for i in range(n) for j in range(i + 1, n)]
        else:
            pairs = [(a, b) for a, b in (rng.sample(held, 2) for _ in range(_TEMPLATE_PAIRS))]
        if 2 * sum(unrelated(k, a, b) for a, b in pairs) >= len(pairs):
            keys.add(k)
    return frozenset(keys)


@dataclass(frozen=True)
class Boilerplate:
    """Learned boilerplate segment keys per source (`""` = seen in several sources) and
    template segment keys per department."""

    by_source: dict[str, frozenset[str]] = field(default_factory=dict)
    min_df: int = 5
    by_department: dict[str, frozenset[str]] = field(default_factory=dict)

    @cached_property
    def all_keys(self) -> frozenset[str]:
        return frozenset().union(*self.by_source.values())

    @cached_property
    def all_templates(self) -> frozenset[str]:
        return frozenset().union(*self.by_department.values())

    @classmethod
    def learn(
        cls,
        descriptions: Sequence[str],
        sources: Sequence[str],
        *,
        departments: Sequence[str] | None = None,
        titles: Sequence[str] | None = None,
        min_df: int = 5,
        min_share: float = 0.01,
        min_words: int = 3,
    ) -> Boilerplate:
        """Segments in at least max(`min_df`, `min_share` × n) distinct descriptions of a source,
        and (given `departments`, and `titles` to tell projects apart) each department's
        templates (`learn_templates`).

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
                df.update(_keys_of(d))
            bar = max(min_df, int(min_share * len(descs)))
            keys = {k for k, c in df.items() if c >= bar and len(k.split()) >= min_words}
            if keys:
                learned[src] = frozenset(keys)
        templates = (
            learn_templates(descriptions, departments, titles) if departments is not None else {}
        )
        return cls(by_source=learned, min_df=min_df, by_department=templates)

    def _key_sets(self, source: str | None, department: str | None) -> list[frozenset[str]]:
        if source is None:  # a proposal: every source's segments, every department's templates
            sets = [self.all_keys, self.all_templates]
        else:
            sets = [
                self.by_source.get(source, _NONE),
                self.by_department.get(department or "", _NONE),
            ]
        return [keys for keys in sets if keys]

    def strip(
        self, description: str, source: str | None = None, department: str | None = None
    ) -> str:
        """The description without admin fields, learned boilerplate segments and its
        department's templates.

        `source=None` (a proposal) applies every source's learned segments and every
        department's templates: a template is text two unrelated projects share.
        """
        if not description:
            return description
        key_sets = self._key_sets(source, department)
        parts = segments(description)
        kept = [
            without_admin_tail(s)
            for s, in_run in zip(parts, field_runs(parts), strict=True)
            if not in_run and not is_admin_field(s) and not _learned(s, key_sets)
        ]
        return description if kept == parts else " ".join(kept)

    def clean_text(
        self,
        title: str,
        description: str,
        source: str | None = None,
        department: str | None = None,
    ) -> str:
        """The text that is embedded and scored: title and stripped description."""
        desc = self.strip(description, source, department)
        if title and desc:
            return f"{title}. {desc}"
        return title or desc or description

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, object]:
        return {
            "min_df": self.min_df,
            "by_source": _table_to_json(self.by_source),
            "by_department": _table_to_json(self.by_department),
        }

    def save(self, path: str | Path) -> Path:
        return write_text(json.dumps(self.to_dict(), ensure_ascii=False), Path(path))

    @classmethod
    def load(cls, path: str | Path) -> Boilerplate:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(
                by_source=_table_from_json(data["by_source"]),
                min_df=int(data.get("min_df", 5)),
                by_department=_table_from_json(data.get("by_department", {})),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise IndexCorruptError(
                f"{path}: unreadable boilerplate model ({exc}); re-run ingest"
            ) from None


def _learned(segment: str, key_sets: list[frozenset[str]]) -> bool:
    """The segment's key is among the learned boilerplate (the key computed once)."""
    if not key_sets:
        return False
    key = segment_key(segment)
    return any(key in keys for keys in key_sets)


def _table_to_json(table: dict[str, frozenset[str]]) -> dict[str, list[str]]:
    return {k: sorted(v) for k, v in sorted(table.items())}


def _table_from_json(data: dict[str, list[str]]) -> dict[str, frozenset[str]]:
    return {str(k): frozenset(str(x) for x in v) for k, v in data.items()}


def source_key(source: object, origin: object) -> str:
    """Boilerplate is learned per source: the record's `source` field, else its ingest origin."""
    s = str(source or "").strip()
    return s or str(origin or "")
