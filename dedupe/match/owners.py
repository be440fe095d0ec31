"""Whom to call: owners behind the matches, ranked and de-duplicated."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from dedupe.records import Match, Owner, OwnerContact, Record


def owners_of(record: Record) -> tuple[Owner, ...]:
    """The record's owners (ingest keeps several as "a@x; b@y", names likewise); none when no
    owner is known (callers then name the department)."""
    if not (record.owner_name or record.owner_email):
        return ()
    emails = [e.strip() for e in record.owner_email.split(";")] if record.owner_email else [""]
    names = [n.strip() for n in record.owner_name.split(";")] if record.owner_name else [""]
    if len(names) != len(emails):  # one name for several addresses: it goes with the first
        names = [record.owner_name.strip()] + [""] * (len(emails) - 1)
    return tuple(
        Owner(name=n, email=e, department=record.department)
        for n, e in zip(names, emails, strict=True)
        if n or e
    )


@dataclass
class _Acc:
    name: str
    email: str
    department: str
    initiatives: list[str] = field(default_factory=list)
    weight: float = 0.0


def rank_owners(matches: Sequence[Match]) -> tuple[OwnerContact, ...]:
    """Owners ranked by the summed score of the matches they own (several matches rank higher).

    A match without a known owner yields a contact for its department with an empty name and
    e-mail, so the result always says whom to approach.
    """
    acc: dict[tuple[str, str], _Acc] = {}
    for m in matches:
        owners = m.owners or (Owner(name="", email="", department=m.department),)
        for o in owners:
            key = (o.email.lower() or o.name.lower(), o.department if not o.email else "")
            if not o.email and not o.name:
                key = ("", o.department)
            item = acc.setdefault(key, _Acc(o.name, o.email, o.department))
            if m.id not in item.initiatives:
                item.initiatives.append(m.id)
                item.weight += m.score
            if not item.name and o.name:
                item.name = o.name
    ranked = sorted(
        acc.values(),
        key=lambda a: (bool(a.email or a.name), a.weight, len(a.initiatives)),
        reverse=True,
    )
    return tuple(
        OwnerContact(a.name, a.email, a.department, tuple(a.initiatives), round(a.weight, 4))
        for a in ranked
    )
