"""`sources.toml`: the departments' exports a nightly run re-ingests, and reading them one by one.

    [[source]]
    name = "finance"                  # the origin name in the index (unique)
    path = "exports/finance/*.csv"    # a file or a glob, relative to sources.toml
    format = "csv"                    # optional: csv, xlsx, parquet, json, jsonl
    mapping = "mappings/finance.toml" # optional: the ingest mapping file

Every problem in the file is reported at once (one `ConfigError` listing them all). Reading a
source is separate from validating the file: a source that cannot be read at night is an
outcome (`SourceOutcome` with its reason), not an exception, so the other sources still run.
"""

from __future__ import annotations

import glob
import logging
import tomllib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dedupe.errors import ConfigError, DedupeError
from dedupe.ingest import LoadResult, dedupe_ids, load_files, load_mapping
from dedupe.ingest.readers import FileFormat

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

_KEYS = {"name", "path", "format", "mapping"}
_FORMATS = tuple(f.value for f in FileFormat)


@dataclass(frozen=True)
class SourceSpec:
    """One `[[source]]` table, with paths resolved against the sources file's folder."""

    name: str
    path: str  # a file or a glob pattern (absolute)
    format: str | None = None
    mapping: Path | None = None

    def files(self) -> list[str]:
        """The files the pattern names now (sorted); empty when nothing matches."""
        if any(ch in self.path for ch in "*?["):
            return sorted(glob.glob(self.path))
        return [self.path] if Path(self.path).exists() else []


@dataclass(frozen=True)
class SourceOutcome:
    """What happened to one source tonight. A failed source keeps its previous records."""

    name: str
    ok: bool
    reason: str = ""
    files: tuple[str, ...] = ()
    rows_in: int = 0  # = records + quarantined
    records: int = 0  # rows indexed (a failed source: 0, its previous records are kept)
    quarantined: int = 0
    quarantine: str = ""  # the file listing the quarantined rows with their reasons

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": "ok" if self.ok else "failed",
            "reason": self.reason,
            "files": list(self.files),
            "rows_in": self.rows_in,
            "records": self.records,
            "quarantined": self.quarantined,
            "quarantine": self.quarantine or None,
        }


def load_sources(path: str | Path) -> list[SourceSpec]:
    """Parse and check `sources.toml`; raise one `ConfigError` listing every problem."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: sources file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    problems: list[str] = []
    extra = sorted(set(data) - {"source"})
    if extra:
        problems.append(f"unknown top-level key(s) {', '.join(extra)} (expected [[source]] tables)")
    tables = data.get("source", [])
    if not isinstance(tables, list) or not tables:
        problems.append("no [[source]] table")
        tables = []
    base = path.parent
    specs: list[SourceSpec] = []
    seen: set[str] = set()
    for n, table in enumerate(tables, start=1):
        where = f"source #{n}"
        if not isinstance(table, dict):
            problems.append(f"{where}: not a table")
            continue
        name = table.get("name")
        if isinstance(name, str) and name.strip():
            where = f"source #{n} ({name!r})"
            if name in seen:
                problems.append(f"{where}: duplicate name {name!r}")
            seen.add(name)
        else:
            problems.append(f"{where}: 'name' is required (a non-empty string)")
        unknown = sorted(set(table) - _KEYS)
        if unknown:
            problems.append(f"{where}: unknown key(s) {', '.join(unknown)}")
        raw_path = table.get("path")
        if not isinstance(raw_path, str) or not raw_path.strip():
            problems.append(f"{where}: 'path' is required (a file or a glob)")
        fmt = table.get("format")
        if fmt is not None and (not isinstance(fmt, str) or fmt.lower() not in _FORMATS):
            problems.append(f"{where}: format {fmt!r} is not one of {', '.join(_FORMATS)}")
        mapping = table.get("mapping")
        mapping_path: Path | None = None
        if mapping is not None:
            if not isinstance(mapping, str) or not mapping.strip():
                problems.append(f"{where}: 'mapping' must be a file path")
            else:
                mapping_path = _resolve(base, mapping)
                if not mapping_path.is_file():
                    problems.append(f"{where}: mapping file {mapping_path} not found")
                else:
                    try:
                        load_mapping(mapping_path)
                    except DedupeError as exc:
                        problems.append(f"{where}: {exc}")
        if (
            isinstance(name, str)
            and name.strip()
            and isinstance(raw_path, str)
            and raw_path.strip()
        ):
            specs.append(
                SourceSpec(
                    name=name.strip(),
                    path=str(_resolve(base, raw_path)),
                    format=fmt.lower() if isinstance(fmt, str) else None,
                    mapping=mapping_path,
                )
            )
    if problems:
        raise ConfigError(f"{path}: " + "; ".join(problems))
    return specs


def _resolve(base: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else base / p


def read_sources(specs: Sequence[SourceSpec]) -> tuple[LoadResult, list[SourceOutcome]]:
    """Load every source; a source that cannot be read is an outcome with its reason.

    A source with no rows, or whose rows were all quarantined, also counts as failed: an empty
    export is far more often a broken export than a department that stopped all its work, so its
    previous records are kept rather than deleted. Ids are unique across sources: a row whose id
    an earlier source already used is quarantined in its own source (as the ingest would).

    The result holds the records of the sources read, and the quarantined rows of every source
    (a failed one's too, so they reach the quarantine file): per source, rows in = records +
    quarantined.
    """
    total = LoadResult()
    outcomes: list[SourceOutcome] = []
    seen: dict[str, tuple[str, int]] = {}  # id → (file, row) of the first source using it
    for spec in specs:
        files = spec.files()
        if not files:
            outcomes.append(SourceOutcome(spec.name, False, f"no file matches {spec.path}"))
            log.warning("source %s: no file matches %s", spec.name, spec.path)
            continue
        try:
            loaded = load_files(files, mapping=spec.mapping, format=spec.format, source=spec.name)
        except DedupeError as exc:
            reason = str(exc)
        except (OSError, ValueError) as exc:  # anything a reader may raise on a broken file
            reason = f"{type(exc).__name__}: {exc}"
        else:
            loaded = dedupe_ids(loaded, seen)  # ids earlier sources used: quarantined
            ok = bool(loaded.records)
            if ok:
                total.extend(loaded)
            else:  # nothing of it is indexed, but its quarantined rows are still written
                total.problems.extend(loaded.problems)
                total.rows_in += loaded.rows_in
                reason = "; ".join(
                    [
                        f"all {loaded.rows_in} rows quarantined"
                        if loaded.rows_in
                        else "no rows read (empty export?)",
                        *loaded.notes,  # which sheet of a workbook was read
                    ]
                )
                log.warning(
                    "source %s failed: %s (its previous records are kept)", spec.name, reason
                )
            outcomes.append(
                SourceOutcome(
                    spec.name,
                    ok,
                    "" if ok else reason,
                    files=tuple(files),
                    rows_in=loaded.rows_in,
                    records=len(loaded.records),
                    quarantined=len(loaded.problems),
                )
            )
            continue
        log.warning("source %s failed: %s (its previous records are kept)", spec.name, reason)
        outcomes.append(SourceOutcome(spec.name, False, reason, files=tuple(files)))
    return total, outcomes


def settle_outcomes(
    outcomes: Sequence[SourceOutcome], loaded: LoadResult, frame: pd.DataFrame
) -> list[SourceOutcome]:
    """Each source's counts after the ingest of `loaded` into the index whose records are `frame`.

    The ingest can quarantine more rows than reading did (an id held in the index by a source
    not re-read tonight): a record counts as indexed when the index holds its id under its
    source; the others count as quarantined. A source left with no record indexed has failed.
    """
    held = set(zip(frame["id"].astype(str), frame["origin"].astype(str), strict=True))
    indexed = Counter(
        src
        for record, src in zip(loaded.records, loaded.sources, strict=True)
        if (record.id, src) in held
    )
    out = []
    for o in outcomes:
        lost = o.records - indexed[o.name] if o.ok else 0
        if lost > 0:
            o = replace(o, records=o.records - lost, quarantined=o.quarantined + lost)
            if not o.records:
                o = replace(o, ok=False, reason=f"all {o.rows_in} rows quarantined")
                log.warning(
                    "source %s failed: %s (its previous records are kept)", o.name, o.reason
                )
        out.append(o)
    return out
