"""Acronyms learned from the portfolio: "Learning Management System (LMS)" teaches that a note
saying "New LMS for staff" is about a learning management system.

Definitions are read from every record's title and description (`Long Form (ACR)` and
`ACR (Long Form)`, English and French: the acronym's letters are the initials of the long form's
words, small words such as *of*, *and*, *de*, *la* skipped). The same letters mean different
systems in different departments, so definitions are kept per department; a text is expanded
with its own department's definition, else with the portfolio's dominant one (the only one, or
defined at least twice as often as any other), and an acronym with several meanings elsewhere
and none in the department is left alone. Nor is one used far more often than it is defined
(more than `MAX_USES_PER_DEFINITION` texts per definition: *GSA* defined once as "Google Search
Appliance" but used in 179 texts for the General Services Administration).

Expansion inserts the long form after the first use of an acronym that the text does not
already spell out: `New LMS (learning management system) for staff training`.

An acronym that is a project's name — it stands in the title of a record that defines it, and
one department alone defines it: "MERIT", "MERIT (Modernized Employee Records and Information
Tracking) will replace …" — is spelled out only in its own department's texts (a program
several departments define, "Workload Migration (WLM)", is lent as before). Code names are
reused across departments for unrelated systems ("MERIT" is also a financial regulator's
model-review toolkit), and writing one record's long form into another department's text would
make the two look alike before they are compared.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from dedupe.csvsafe import write_text
from dedupe.errors import IndexCorruptError

# 2-10 characters, at least two capitals, letters/digits/& only: LMS, eDRMS, GCSI, IM/IT no.
_ACR = r"[A-Za-z0-9&]*[A-Z][A-Za-z0-9&]*[A-Z][A-Za-z0-9&]*"
_PAREN_ACR = re.compile(rf"\(\s*({_ACR})\s*\)")  # "… Long Form (ACR)"
_ACR_PAREN = re.compile(rf"\b({_ACR})\s*\(([^()]{{3,160}})\)")  # "ACR (Long Form)"
_USE = re.compile(rf"(?<![\w(])({_ACR})(?![\w)])")
_WORD = re.compile(r"[^\W_]+")  # elisions and hyphens split: l'apprentissage -> l, apprentissage
MAX_USES_PER_DEFINITION = 20
_TOKEN = re.compile(r"[A-Za-z0-9&]+")
SMALL_WORDS = frozenset(
    "of and for the to in on a an with by at or "
    "de des du la le les l d et pour en au aux sur un une à".split()
)


# A word that could be an acronym, wherever it stands (also inside "(LMS)").
_CAPITALS = re.compile(rf"(?<![\w&]){_ACR}(?![\w&])")


@lru_cache(maxsize=1 << 16)  # a record's text is read for each of its pairs
def capitals(text: str) -> frozenset[str]:
    """The words of `text` that could be acronyms (two capitals or more)."""
    return frozenset(_CAPITALS.findall(text))


def words(text: str) -> list[str]:
    """`text`'s words as the long forms are read (elisions and hyphens split)."""
    return _WORD.findall(text)


def _letters(acronym: str) -> str:
    return "".join(c for c in acronym.lower() if c.isalpha())


def _initials_match(words: Sequence[str], letters: str) -> bool:
    """Whether `words` (content words plus small words that may be skipped) spell `letters`."""

    def go(i: int, j: int) -> bool:
        if j == len(letters):
            return i == len(words)
        if i == len(words):
            return False
        word = words[i]
        w = word.lower()
        if w[0] == letters[j] and go(i + 1, j + 1):  # a word gives its initial
            return True
        if len(word) > 1 and word.isupper() and letters.startswith(w, j) and go(i + 1, j + len(w)):
            return True  # an acronym inside a long form gives all its letters (GC Secret ...)
        return w in SMALL_WORDS and go(i + 1, j)

    return bool(letters) and go(0, 0)


def _long_form(before: str, acronym: str) -> str | None:
    """The shortest tail of `before` whose words' initials spell the acronym."""
    letters = _letters(acronym)
    if not 2 <= len(letters) <= 10:
        return None
    found = list(_WORD.finditer(before))
    words = [m.group(0) for m in found]
    for n in range(2, min(len(words), 2 * len(letters) + 2) + 1):
        tail = words[-n:]
        first = tail[0].lower()
        if first[0] != letters[0] or first in SMALL_WORDS:  # cheap rejection first
            continue
        if _initials_match(tail, letters):
            return " ".join(before[found[-n].start() :].split())  # as written (l'apprentissage)
    return None


def find_definitions(text: str) -> list[tuple[str, str]]:
    """(acronym, long form) pairs defined in `text`, in order."""
    out: list[tuple[str, str]] = []
    for m in _PAREN_ACR.finditer(text):
        before = text[max(0, m.start() - 160) : m.start()]
        before = before[before.rfind(")") + 1 :]  # not across an earlier parenthesis
        long = _long_form(before, m.group(1))
        if long:
            out.append((m.group(1), long))
    for m in _ACR_PAREN.finditer(text):
        inner = m.group(2).strip()
        if _initials_match(_WORD.findall(inner), _letters(m.group(1))):
            out.append((m.group(1), " ".join(inner.split())))
    return out


# "ACR – Long form …" / "ACR - Long form": a title's way to name a system (read by the homonym
# check only; the learned meanings come from parentheses).
_ACR_DASH = re.compile(rf"(?<![\w&])({_ACR})\s+[–—-]\s+([^.;:|()–—]{{3,160}})")


def dash_definitions(text: str) -> list[tuple[str, str]]:
    """(acronym, long form) pairs written "ACR – Long form": the shortest run of the words after
    the dash whose initials spell the acronym ("CMS – Contract Management System Replacement"
    -> Contract Management System)."""
    out: list[tuple[str, str]] = []
    for m in _ACR_DASH.finditer(text):
        letters = _letters(m.group(1))
        if not 2 <= len(letters) <= 10:
            continue
        found = list(_WORD.finditer(m.group(2)))
        words = [w.group(0) for w in found]
        for n in range(2, min(len(words), 2 * len(letters) + 2) + 1):
            if _initials_match(words[:n], letters):
                out.append((m.group(1), " ".join(m.group(2)[: found[n - 1].end()].split())))
                break
    return out


def own_definitions(text: str) -> list[tuple[str, str]]:
    """Every (acronym, long form) a text gives itself: in parentheses, then after a dash."""
    return find_definitions(text) + dash_definitions(text)


def _key(department: str) -> str:
    return " ".join(department.lower().split())


@dataclass(frozen=True)
class Acronyms:
    """Acronym → long form (lower-case) per department, and how often each form is defined."""

    by_department: dict[str, dict[str, str]] = field(default_factory=dict)
    everywhere: dict[str, dict[str, int]] = field(default_factory=dict)
    uses: dict[str, int] = field(default_factory=dict)  # texts that contain the acronym
    names: frozenset[str] = frozenset()  # one department's project names: not lent elsewhere

    @classmethod
    def learn(
        cls,
        texts: Sequence[str],
        departments: Sequence[str],
        titles: Sequence[str] | None = None,
    ) -> Acronyms:
        """Definitions of `texts` (title and description); `titles`: the records' titles, to
        tell which acronyms are projects' names."""
        by_dept: dict[str, dict[str, str]] = {}
        every: dict[str, Counter[str]] = {}
        titled: set[str] = set()  # defined by a record whose title uses it
        definers: dict[str, set[str]] = {}  # the departments that define it
        for i, (text, dept) in enumerate(zip(texts, departments, strict=True)):
            if "(" not in text:
                continue
            title_caps = capitals(titles[i]) if titles is not None else frozenset()
            for acr, long in find_definitions(text):
                form = " ".join(long.lower().replace("-", " ").split())
                by_dept.setdefault(_key(dept), {}).setdefault(acr, form)
                every.setdefault(acr, Counter())[form] += 1
                definers.setdefault(acr, set()).add(_key(dept))
                if acr in title_caps:
                    titled.add(acr)
        names = {a for a in titled if len(definers[a]) == 1}
        uses: Counter[str] = Counter()
        for text in texts:
            uses.update({t for t in _TOKEN.findall(text) if t in every})
        return cls(by_dept, {a: dict(c) for a, c in every.items()}, dict(uses), frozenset(names))

    def meaning(self, acronym: str, department: str = "") -> str | None:
        """The long form of `acronym` for a text of `department` (None: unknown or ambiguous)."""
        own = self.by_department.get(_key(department), {}).get(acronym)
        if own:
            return own
        if acronym in self.names:  # a project's name: not lent to other departments
            return None
        forms = self.everywhere.get(acronym)
        if not forms or self.uses.get(acronym, 0) > MAX_USES_PER_DEFINITION * sum(forms.values()):
            return None
        ranked = sorted(forms.items(), key=lambda fc: (-fc[1], fc[0]))
        if len(ranked) == 1 or ranked[0][1] >= 2 * ranked[1][1]:
            return ranked[0][0]
        return None

    def expand(self, text: str, department: str = "") -> str:
        """`text` with the long form after the first use of each acronym it does not spell out
        (nor define itself, in another meaning: "CRS - Crew Rostering System")."""
        if not self.everywhere or not text:
            return text
        lowered = ""
        own: set[str] | None = None  # the acronyms the text defines (read when first needed)
        done: set[str] = set()
        pieces: list[str] = []
        last = 0
        for m in _USE.finditer(text):
            acr = m.group(1)
            if acr in done:
                continue
            done.add(acr)
            form = self.meaning(acr, department)
            if not form:
                continue
            lowered = lowered or text.lower()
            if form in lowered:
                continue
            if own is None:
                own = {a for a, _ in own_definitions(text)}
            if acr in own:
                continue
            pieces.append(text[last : m.end()])
            pieces.append(f" ({form})")
            last = m.end()
        if not pieces:
            return text
        pieces.append(text[last:])
        return "".join(pieces)

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, object]:
        return {
            "by_department": {
                k: dict(sorted(v.items())) for k, v in sorted(self.by_department.items())
            },
            "everywhere": {k: dict(sorted(v.items())) for k, v in sorted(self.everywhere.items())},
            "uses": dict(sorted(self.uses.items())),
            "names": sorted(self.names),
        }

    def save(self, path: str | Path) -> Path:
        return write_text(json.dumps(self.to_dict(), ensure_ascii=False), Path(path))

    @classmethod
    def load(cls, path: str | Path) -> Acronyms:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            by_dept = {
                str(d): {str(a): str(f) for a, f in forms.items()}
                for d, forms in data["by_department"].items()
            }
            every = {
                str(a): {str(f): int(c) for f, c in fs.items()}
                for a, fs in data["everywhere"].items()
            }
            uses = {str(a): int(n) for a, n in data.get("uses", {}).items()}
            names = frozenset(str(a) for a in data.get("names", []))
            return cls(by_dept, every, uses, names)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise IndexCorruptError(f"{path}: unreadable acronyms ({exc}); re-run ingest") from None
