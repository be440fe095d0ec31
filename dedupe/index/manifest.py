"""The manifest: what an index directory holds and which encoder built it.

The manifest is the pointer to the current generation of files: it is written last, by an
atomic rename, so a reader always sees a complete generation (the old one or the new one).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dedupe.csvsafe import write_text
from dedupe.errors import IndexCorruptError, IndexNotFoundError, ModelMismatchError

MANIFEST = "manifest.json"
REBUILD = "rebuild it with `dedupe ingest --rebuild` and the same files"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class FileEntry:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    model_id: str
    dim: int
    generation: int
    record_count: int
    files: dict[str, FileEntry]
    created_at: str
    updated_at: str
    index_kind: str = "flat"
    origins: dict[str, int] = field(default_factory=dict)  # ingest source → record count
    origin_files: dict[str, list[str]] = field(default_factory=dict)  # source → files last read
    scorer: dict[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    def to_json(self) -> str:
        data = asdict(self)
        return json.dumps(data, indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any], path: Path) -> Manifest:
        try:
            files = {k: FileEntry(**v) for k, v in data["files"].items()}
            return cls(
                model_id=str(data["model_id"]),
                dim=int(data["dim"]),
                generation=int(data["generation"]),
                record_count=int(data["record_count"]),
                files=files,
                created_at=str(data["created_at"]),
                updated_at=str(data["updated_at"]),
                index_kind=str(data.get("index_kind", "flat")),
                origins={str(k): int(v) for k, v in data.get("origins", {}).items()},
                origin_files={
                    str(k): [str(f) for f in v] for k, v in data.get("origin_files", {}).items()
                },
                scorer=dict(data.get("scorer", {})),
                format_version=int(data.get("format_version", FORMAT_VERSION)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexCorruptError(
                f"{path}: manifest is corrupt ({type(exc).__name__}: {exc}); {REBUILD}"
            ) from None

    def check_model(self, model_id: str, path: Path) -> None:
        if model_id != self.model_id:
            raise ModelMismatchError(
                f"{path}: index was built with encoder {self.model_id!r}, "
                f"not {model_id!r}; open it with that encoder or rebuild it with "
                f"`dedupe ingest --rebuild --encoder ...`"
            )


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def read_manifest(directory: str | Path) -> Manifest:
    directory = Path(directory)
    path = directory / MANIFEST
    if not path.exists():
        if not directory.exists():
            raise IndexNotFoundError(f"{directory}: no index here; build one with `dedupe ingest`")
        if not directory.is_dir():
            raise IndexNotFoundError(
                f"{directory}: a file, not an index folder (give --index a folder)"
            )
        raise IndexNotFoundError(
            f"{path}: no manifest, so no complete index here; build one with `dedupe ingest`"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IndexCorruptError(f"{path}: manifest is not valid JSON ({exc}); {REBUILD}") from None
    if not isinstance(data, dict):
        raise IndexCorruptError(f"{path}: manifest is not a JSON object; {REBUILD}")
    return Manifest.from_dict(data, path)


def write_manifest(directory: str | Path, manifest: Manifest) -> Path:
    return write_text(manifest.to_json(), Path(directory) / MANIFEST)
