"""Turn one mapped row into a `Record`, or say exactly why it cannot be one."""

from __future__ import annotations

import hashlib
import re
import sys
from datetime import datetime
from functools import lru_cache

from dateutil import parser as date_parser
from email_validator import EmailNotValidError, validate_email

from dedupe.records import Record
from dedupe.text import detect_language, normalize_text

_YEAR = re.compile(r"^(?:FY\s*)?(\d{4})(?:\s*[-/–]\s*\d{2,4})?$", re.IGNORECASE)
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})$")
_LANG = {
    "en": "en",
    "eng": "en",
    "english": "en",
    "anglais": "en",
    "en+fr": "en",
    "en-ca": "en",
    "en-us": "en",
    "en-gb": "en",
    "fr": "fr",
    "fra": "fr",
    "fre": "fr",
    "french": "fr",
    "français": "fr",
    "francais": "fr",
    "fr-ca": "fr",
    "fr+en": "fr",
}
_MONEY = re.compile(r"[\s$£€,]|CAD|USD|GBP", re.IGNORECASE)
_MULT = {"k": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9, "billion": 1e9}


class RowInvalid(ValueError):
    """A row-level validation failure: the column and the reason."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


@lru_cache(maxsize=4096)
def parse_date(value: str) -> str:
    """An ISO date (YYYY-MM-DD) from the date formats seen in government exports (memoised:
    an export repeats a few hundred distinct dates)."""
    value = value.strip()
    if not value:
        return ""
    m = _YEAR.match(value)
    if m:
        return f"{m.group(1)}-01-01"
    iso = _ISO_DATE.match(value)
    if iso:  # the common case, without dateutil's general parser (~0.15 ms a row)
        try:
            day = datetime(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        except ValueError:
            day = None  # e.g. 2021-02-30: let dateutil decide, as before
        if day is not None and 1900 <= day.year <= 2200:
            return day.date().isoformat()
    try:
        parsed = date_parser.parse(value, default=datetime(2000, 1, 1), dayfirst=False)
    except (ValueError, OverflowError, TypeError):
        raise RowInvalid("start_date", f"not a date: {value!r}") from None
    if not 1900 <= parsed.year <= 2200:
        raise RowInvalid("start_date", f"date out of range: {value!r}")
    return parsed.date().isoformat()


def parse_email(value: str) -> str:
    """The first address of a cell (`mailto:` and name brackets allowed), normalised."""
    value = value.strip()
    if not value:
        return ""
    first = re.split(r"[;,\s]+", value.replace("mailto:", " ").strip())[0]
    first = first.strip("<>()\"'")
    try:
        return validate_email(first, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise RowInvalid("owner_email", f"malformed e-mail {value!r}: {exc}") from None


def parse_budget(value: str) -> float | None:
    value = value.strip()
    if not value:
        return None
    text = _MONEY.sub("", value).lower()
    mult = 1.0
    for suffix, factor in sorted(_MULT.items(), key=lambda kv: -len(kv[0])):
        if text.endswith(suffix):
            text, mult = text[: -len(suffix)], factor
            break
    try:
        number = float(text) * mult
    except ValueError:
        raise RowInvalid("budget", f"not a number: {value!r}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise RowInvalid("budget", f"not a number: {value!r}")
    return number


def parse_language(value: str, text: str) -> str:
    key = value.strip().lower()
    if key in _LANG:
        return _LANG[key]
    if key:
        return key.split("-")[0][:8]
    return detect_language(text)


def stable_id(source: str, title: str, description: str, department: str) -> str:
    """An id derived from source and content, the same on every run."""
    digest = hashlib.sha256(
        "\x1f".join((source, department, title, description)).encode()
    ).hexdigest()
    return f"gen-{digest[:16]}"


_SURROGATE_ESCAPES = re.compile("[\udc80-\udcff]")  # bytes decoded with surrogateescape


def has_bad_bytes(text: str) -> bool:
    return _SURROGATE_ESCAPES.search(text) is not None


def build_record(values: dict[str, str], source: str) -> Record:
    """Validate mapped values; raise `RowInvalid` with the column at fault."""
    for col, raw in values.items():
        if has_bad_bytes(raw):
            raise RowInvalid(col, "undecodable byte(s): the text is not in the file's encoding")
    clean = {k: normalize_text(v) for k, v in values.items()}
    title, description = clean.get("title", ""), clean.get("description", "")
    department = clean.get("department", "")
    if not department:
        raise RowInvalid("department", "no department")
    if not title and not description:
        raise RowInvalid("title", "neither a title nor a description")
    src = clean.get("source", "") or source
    record_id = clean.get("id", "") or stable_id(src, title, description, department)
    if len(record_id) > 200:
        raise RowInvalid("id", f"id longer than 200 characters: {record_id[:40]!r}…")
    return Record(
        id=record_id,
        title=title,
        description=description,
        department=sys.intern(department),  # a few hundred names over millions of records
        owner_name=clean.get("owner_name", ""),
        owner_email=parse_email(clean.get("owner_email", "")),
        status=sys.intern(clean.get("status", "")),
        start_date=parse_date(clean.get("start_date", "")),
        language=parse_language(clean.get("language", ""), f"{title}. {description}"),
        url=clean.get("url", ""),
        tags=clean.get("tags", ""),
        budget=parse_budget(clean.get("budget", "")),
        source=sys.intern(src),
    )
