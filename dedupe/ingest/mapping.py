"""Per-source column mappings: which of a file's columns feed each canonical field.

A mapping file is TOML:

    [columns]                       # canonical field = source column, or a list of columns to join
    title = "Project Name"
    description = ["Summary", "Objectives"]
    owner_email = "Contact"

    [defaults]                      # constants for fields the export lacks
    department = "Finance Canada"

    [departments]                   # one department under several names: the name to use
    "Department of Indigenous Services" = "Indigenous Services Canada"
    "ISC" = "Indigenous Services Canada"

Without a mapping, common column names are recognised (`Project Name`, `Summary`,
`Contact e-mail`…); with one, so are the columns of the fields its [columns] does not name. A
file must give every record a department and a title or description (a column or a default):
one that cannot is refused (`MappingError`) before any row is read.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from dedupe.errors import ConfigError, MappingError
from dedupe.records import ALL_FIELDS

# Recognised source column names per canonical field, compared after `_key` folding.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "id": ("id", "project id", "initiative id", "unique id", "uid", "identifier", "code"),
    "title": (
        "title",
        "name",
        "project name",
        "initiative",
        "initiative name",
        "project title",
        "program name",
        "service name",
        "project",
    ),
    "description": (
        "description",
        "summary",
        "project description",
        "desc",
        "details",
        "abstract",
        "objectives",
        "scope",
    ),
    "department": (
        "department",
        "dept",
        "agency",
        "ministry",
        "organization",
        "organisation",
        "owner organization",
        "department name",
        "org",
    ),
    "owner_name": (
        "owner name",
        "owner",
        "contact name",
        "project manager",
        "lead",
        "sro",
        "contact",
        "responsible",
    ),
    "owner_email": (
        "owner email",
        "email",
        "e-mail",
        "contact email",
        "contact e-mail",
        "owner contact",
        "owner_contact",
        "mail",
    ),
    "status": ("status", "state", "phase", "stage"),
    "start_date": ("start date", "start", "date", "start_date", "date started", "begin date"),
    "language": ("language", "lang", "locale"),
    "url": ("url", "link", "website", "homepage", "repository url", "repository"),
    "tags": ("tags", "keywords", "topics", "categories"),
    "budget": ("budget", "cost", "total cost", "estimated cost", "whole life cost", "amount"),
    "source": ("source",),
}


# The fields a record cannot do without: (what to call them, the fields that can fill them).
_NEEDED: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("the department", ("department",)),
    ("the title or description", ("title", "description")),
)


def _key(name: str) -> str:
    return re.sub(r"[\s_\-./]+", " ", name.strip().lower()).strip()


@dataclass(frozen=True)
class ColumnMapping:
    """Canonical field → tuple of source columns (joined with a blank line), plus constants,
    plus department aliases (keys compared case- and whitespace-insensitively)."""

    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    path: str = ""
    departments: dict[str, str] = field(default_factory=dict)

    def required_columns(self) -> set[str]:
        return {c for cols in self.columns.values() for c in cols}

    def completed(self, columns: Iterable[str]) -> ColumnMapping:
        """This mapping for a file with `columns`: the fields its [columns] does not name are
        recognised by their usual names, as without a mapping, among the columns it leaves."""
        named = self.required_columns()
        inferred = infer_mapping([c for c in columns if c not in named], skip=self.columns)
        return replace(self, columns={**inferred.columns, **self.columns})

    def problem(self, available: Iterable[str]) -> str:
        """What keeps a file with these columns from giving records ("" when nothing does):
        mapped columns it lacks, else a field a record needs that no column nor default fills
        (a department; a title or a description)."""
        missing = sorted(self.required_columns() - set(available))
        if missing:
            where = f" (mapping {self.path})" if self.path else ""
            return f"the mapping{where} names column(s) the file does not have: " + ", ".join(
                repr(m) for m in missing
            )
        lacking = [
            (what, fields)
            for what, fields in _NEEDED
            if not any(f in self.columns or self.defaults.get(f) for f in fields)
        ]
        if not lacking:
            return ""
        return (
            "no column for "
            + " nor for ".join(
                f"{what} (recognised names: "
                + ", ".join(repr(n) for f in fields for n in SYNONYMS[f])
                + ")"
                for what, fields in lacking
            )
            + "; name the file's columns in a --mapping file's [columns]"
            + (" or give [defaults] department" if lacking[0][1] == ("department",) else "")
        )

    def check(self, available: Iterable[str], file: str) -> None:
        """Raise `MappingError` naming the file, what it lacks (every mapped column it does not
        have, or the fields a record needs that nothing fills) and the columns it has."""
        have = list(available)
        problem = self.problem(have)
        if problem:
            raise MappingError(
                f"{file}: {problem}. The file's columns are: "
                + (", ".join(repr(c) for c in sorted(have)) or "none")
            )

    def apply(self, row: Mapping[str, str]) -> dict[str, str]:
        """A source row → canonical field values (strings, not yet validated)."""
        out = dict(self.defaults)
        for canon, cols in self.columns.items():
            parts = [row.get(c, "") for c in cols]
            joined = "\n\n".join(p for p in parts if p and p.strip())
            if joined or canon not in out:
                out[canon] = joined
        if self.departments and out.get("department"):
            out["department"] = self.departments.get(
                _alias_key(out["department"]), out["department"]
            )
        return out


def _alias_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def load_mapping(path: str | Path) -> ColumnMapping:
    """Load a TOML mapping; every problem in it is reported at once."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: mapping file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return mapping_from_dict(data, source=str(path))


def mapping_from_dict(data: Mapping[str, object], source: str = "") -> ColumnMapping:
    problems: list[str] = []
    columns_raw = data.get("columns", {})
    defaults_raw = data.get("defaults", {})
    if not isinstance(columns_raw, dict):
        problems.append("[columns] must be a table")
        columns_raw = {}
    if not isinstance(defaults_raw, dict):
        problems.append("[defaults] must be a table")
        defaults_raw = {}
    columns: dict[str, tuple[str, ...]] = {}
    for canon, value in columns_raw.items():
        if canon not in ALL_FIELDS:
            problems.append(
                f"unknown field {canon!r} in [columns] (fields: {', '.join(ALL_FIELDS)})"
            )
            continue
        if isinstance(value, str) and value:
            columns[canon] = (value,)
        elif isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
            columns[canon] = tuple(value)
        else:
            problems.append(f"[columns] {canon} must be a column name or a list of column names")
    defaults: dict[str, str] = {}
    for canon, value in defaults_raw.items():
        if canon not in ALL_FIELDS:
            problems.append(f"unknown field {canon!r} in [defaults]")
        else:
            defaults[canon] = str(value)
    departments: dict[str, str] = {}
    departments_raw = data.get("departments", {})
    if not isinstance(departments_raw, dict):
        problems.append('[departments] must be a table of "name in the export" = "name to use"')
        departments_raw = {}
    for alias, name in departments_raw.items():
        if not isinstance(name, str) or not name.strip():
            problems.append(f"[departments] {alias!r} must map to a department name")
        else:
            departments[_alias_key(alias)] = " ".join(name.split())
    unknown = sorted(set(data) - {"columns", "defaults", "departments"})
    if unknown:
        problems.append(
            f"unknown table(s): {', '.join(unknown)} "
            "(expected [columns], [defaults], [departments])"
        )
    if problems:
        where = f"{source}: " if source else ""
        raise ConfigError(where + "; ".join(problems))
    return ColumnMapping(columns=columns, defaults=defaults, path=source, departments=departments)


def infer_mapping(columns: Iterable[str], skip: Iterable[str] = ()) -> ColumnMapping:
    """Recognise common column names; canonical names themselves always win. `skip`: fields
    not to look for (a mapping names their columns)."""
    cols = list(columns)
    by_key = {_key(c): c for c in cols}
    mapped: dict[str, tuple[str, ...]] = {}
    used: set[str] = set()
    skipped = set(skip)
    wanted = [canon for canon in ALL_FIELDS if canon not in skipped]
    # Exact canonical names first, then synonyms in order of preference.
    for canon in wanted:
        if canon in cols:
            mapped[canon] = (canon,)
            used.add(canon)
    for canon in wanted:
        if canon in mapped:
            continue
        for syn in SYNONYMS.get(canon, ()):
            col = by_key.get(_key(syn))
            if col is not None and col not in used:
                mapped[canon] = (col,)
                used.add(col)
                break
    return ColumnMapping(columns=mapped)
