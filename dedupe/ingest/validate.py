"""Turn one mapped row into a `Record`, or say exactly why it cannot be one."""

from __future__ import annotations

import hashlib
import re
import sys

from dedupe.ingest.values import (
    ColumnConventions,
    RowInvalid,
    parse_budget,
    parse_date,
    parse_language,
    parse_owners,
)
from dedupe.records import Record
from dedupe.text import normalize_text

__all__ = ["MAX_CELL_CHARS", "RowInvalid", "build_record", "has_bad_bytes", "stable_id"]

# A cell longer than this is not an initiative's text (Excel's own limit is 32,767 characters):
# its row is quarantined rather than embedded sentence by sentence.
MAX_CELL_CHARS = 1_000_000


def stable_id(source: str, title: str, description: str, department: str) -> str:
    """An id derived from source and content, the same on every run."""
    digest = hashlib.sha256(
        "\x1f".join((source, department, title, description)).encode()
    ).hexdigest()
    return f"gen-{digest[:16]}"


_SURROGATE_ESCAPES = re.compile("[\udc80-\udcff]")  # bytes decoded with surrogateescape


def has_bad_bytes(text: str) -> bool:
    return _SURROGATE_ESCAPES.search(text) is not None


def build_record(
    values: dict[str, str], source: str, conventions: ColumnConventions | None = None
) -> Record:
    """Validate mapped values; raise `RowInvalid` with the column at fault.

    `conventions`: what the file's date and budget columns decide together
    (`ColumnConventions.of`); without them an ambiguous date or amount is refused."""
    conventions = conventions or ColumnConventions()
    for col, raw in values.items():
        if has_bad_bytes(raw):
            raise RowInvalid(col, "undecodable byte(s): the text is not in the file's encoding")
        if len(raw) > MAX_CELL_CHARS:
            raise RowInvalid(
                col, f"{len(raw):,} characters: over the {MAX_CELL_CHARS:,} a cell may hold"
            )
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
    # Every owner is kept: addresses joined by "; " (`owners_of` splits them again), with their
    # display names when the owners' names are not given.
    owners = parse_owners(clean.get("owner_email", ""))
    owner_email = "; ".join(email for _, email in owners)
    display_name = "; ".join(name for name, _ in owners) if any(n for n, _ in owners) else ""
    return Record(
        id=record_id,
        title=title,
        description=description,
        department=sys.intern(department),  # a few hundred names over millions of records
        owner_name=clean.get("owner_name", "") or display_name,
        owner_email=owner_email,
        status=sys.intern(clean.get("status", "")),
        start_date=parse_date(clean.get("start_date", ""), conventions.dates),
        language=parse_language(clean.get("language", ""), f"{title}. {description}"),
        url=clean.get("url", ""),
        tags=clean.get("tags", ""),
        budget=parse_budget(clean.get("budget", ""), conventions.decimal),
        source=sys.intern(src),
    )
