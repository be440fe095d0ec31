"""Every record's scored text (title + stripped description, acronyms spelled out), as ingest
computed it, in an Arrow IPC file read by memory map.

`check` reads the scored texts of a few dozen candidates per query (the homonym check and the
no-name features look for definitions in them). Recomputing them (boilerplate stripping and
acronym expansion) cost ~4 ms of a ~20 ms `check` at 100k records. Ingest computes every
record's text anyway to embed it, so it is written once here. Reading one back is a lookup in
the mapped file, and only the pages read are loaded, even at a million records.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from dedupe.errors import IndexCorruptError
from dedupe.index.manifest import REBUILD, Manifest

SCORED_ROLE = "scored"
_COLUMN = "text"


def write_scored_texts(path: Path, texts: Sequence[str], rows: int = 65_536) -> None:
    """`texts` as one large-string column, in record batches of `rows` (Arrow holds one
    batch's copy at a time)."""
    import pyarrow as pa

    schema = pa.schema([(_COLUMN, pa.large_string())])
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, schema) as writer:
        for lo in range(0, len(texts), rows):
            part = pa.array(texts[lo : lo + rows], type=pa.large_string())
            writer.write_batch(pa.record_batch([part], schema=schema))


class ScoredTexts:
    """The scored texts of one index generation, by record row."""

    def __init__(self, path: Path) -> None:
        import pyarrow as pa

        try:
            # the table's buffers point into the map: it stays open as long as they live
            table = pa.ipc.open_file(pa.memory_map(str(path), "r")).read_all()
        except (OSError, pa.ArrowInvalid) as exc:
            raise IndexCorruptError(f"{path}: unreadable scored texts ({exc}); {REBUILD}") from None
        if table.schema.names != [_COLUMN]:
            raise IndexCorruptError(
                f"{path}: expected one column {_COLUMN!r}, found {table.schema.names}"
            )
        self._column = table.column(0)
        self.path = path

    def __len__(self) -> int:
        return len(self._column)

    def __getitem__(self, pos: int) -> str:
        return str(self._column[pos].as_py())


def open_scored(path: Path, manifest: Manifest) -> ScoredTexts | None:
    """The scored texts of the generation `manifest` describes. None for an index written
    before they were stored: its texts are computed when read."""
    entry = manifest.files.get(SCORED_ROLE)
    if entry is None:
        return None
    fpath = path / entry.name
    if not fpath.exists() or fpath.stat().st_size != entry.size:
        raise IndexCorruptError(
            f"{fpath}: missing or not the size the manifest says ({entry.size} bytes); {REBUILD}"
        )
    texts = ScoredTexts(fpath)
    if len(texts) != manifest.record_count:
        raise IndexCorruptError(
            f"{fpath}: {len(texts)} texts for {manifest.record_count} records; {REBUILD}"
        )
    return texts
