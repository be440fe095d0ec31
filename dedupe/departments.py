"""One department under its English and French names.

A bilingual portfolio names a department either way ("Fisheries and Oceans Canada", "Pêches et
Océans Canada"), and an intake officer types either, or a shorter form ("Pêches et Océans",
"Correctional Service of Canada"). Comparisons of departments (same-department matches,
cross-department pairs, the departments a cluster spans, "did you mean") go through
`department_key`, which folds case, accents, apostrophes and spacing, a leading article and a
trailing "Canada" / "of Canada" / "du Canada", and maps a known French name to its English one.
The names come from the Government of Canada's published inventories (`departments_fr_en.tsv`,
built by `benchmarks/build_departments.py`), and so do the departments' acronyms in English
("ESDC"; the French ones, "EDSC", are written by hand in that script); other names of a
department (an old name, a branch) belong in an ingest mapping's `[departments]` table.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources

NAMES_FILE = "departments_fr_en.tsv"
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'"})
_ARTICLE = re.compile(r"^(?:the|la|le|les|l')\s*")
_COUNTRY = re.compile(r"\s+(?:of|du|de)?\s*canada$")


def fold(name: str) -> str:
    """Case, accents, apostrophes and spacing folded; a leading article and a trailing
    "Canada" ("of Canada", "du Canada") dropped: "L'Enquêteur correctionnel Canada" →
    "enqueteur correctionnel"."""
    text = unicodedata.normalize("NFKD", str(name).translate(_APOSTROPHES).casefold())
    text = " ".join("".join(c for c in text if not unicodedata.combining(c)).split())
    bare = _COUNTRY.sub("", _ARTICLE.sub("", text))
    return bare or text  # "Canada" alone stays "canada"


@lru_cache(maxsize=1)
def _french_to_english() -> dict[str, str]:
    try:
        text = resources.files("dedupe").joinpath(NAMES_FILE).read_text("utf-8")
    except FileNotFoundError:
        return {}
    table: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("#") or "\t" not in line:
            continue
        french, english = line.split("\t", 1)
        table[fold(french)] = fold(english)
    return table


@lru_cache(maxsize=1 << 12)
def department_key(name: str) -> str:
    """The key every name of one department shares ("" for none): `fold`, then a known French
    name replaced by its English one."""
    folded = fold(name)
    return _french_to_english().get(folded, folded) if folded else ""


def same_department(a: str, b: str) -> bool:
    """Whether two department names name one department (never when either is blank)."""
    key = department_key(a)
    return bool(key) and key == department_key(b)


def closest_departments(name: str, names: Iterable[str], n: int = 3) -> tuple[bool, list[str]]:
    """Whether `name` names one of the departments `names` (case, accents, English/French and
    acronyms aside), and else up to `n` of `names` closest to it: near misses of the name as
    written ("DFOO": "DFO") or of the department it stands for."""
    names = sorted(set(names))
    if not name.strip() or department_key(name) in {department_key(d) for d in names}:
        return True, []
    spelled = {fold(d): d for d in names} | {department_key(d): d for d in names}
    found: list[str] = []
    for key in (fold(name), department_key(name)):
        for c in difflib.get_close_matches(key, list(spelled), n=n, cutoff=0.6):
            if spelled[c] not in found:
                found.append(spelled[c])
    return False, found[:n]
