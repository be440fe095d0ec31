"""Read a portfolio file into a table of strings, detecting its format and text encoding.

Every cell comes back as `str` (missing → ""), so validation sees exactly what the file said.
Bytes that cannot be decoded are kept as a marker the validator turns into a quarantine reason.
"""

from __future__ import annotations

import codecs
import csv
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import NoReturn

import pandas as pd

from dedupe.errors import IngestError

ROW_ERROR = "__error__"  # a column readers add for rows that are broken as a whole


class FileFormat(str, Enum):
    CSV = "csv"
    XLSX = "xlsx"
    PARQUET = "parquet"
    JSON = "json"
    JSONL = "jsonl"


_SUFFIXES = {
    ".csv": FileFormat.CSV,
    ".tsv": FileFormat.CSV,
    ".txt": FileFormat.CSV,
    ".xlsx": FileFormat.XLSX,
    ".xlsm": FileFormat.XLSX,
    ".parquet": FileFormat.PARQUET,
    ".pq": FileFormat.PARQUET,
    ".json": FileFormat.JSON,
    ".jsonl": FileFormat.JSONL,
    ".ndjson": FileFormat.JSONL,
}


@dataclass(frozen=True)
class Table:
    """A file's rows as strings, with what was detected about it."""

    path: Path
    format: FileFormat
    frame: pd.DataFrame  # all columns str, "" for missing
    encoding: str = ""
    sheet: str = ""  # a workbook's sheet the rows are from
    header_row: int = 1  # the spreadsheet row of the header (blank rows above it skipped)
    other_sheets: tuple[str, ...] = ()  # a workbook's other visible sheets, in order

    @property
    def label(self) -> str:
        """Where the rows are from, as row references name it: the file (and sheet)."""
        return f"{self.path} [sheet {self.sheet!r}]" if self.sheet else str(self.path)


def detect_format(path: Path, override: str | FileFormat | None = None) -> FileFormat:
    if override:
        try:
            return FileFormat(str(getattr(override, "value", override)).lower())
        except ValueError:
            choices = ", ".join(f.value for f in FileFormat)
            raise IngestError(
                f"{path}: unknown format {override!r} (use one of {choices})"
            ) from None
    fmt = _SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise IngestError(
            f"{path}: cannot tell the format from the extension {path.suffix!r}; "
            "pass --format csv|xlsx|parquet|json|jsonl"
        )
    return fmt


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_bytes(raw: bytes) -> tuple[str, str]:
    """Decode a text file: BOMs first, then strict UTF-8, then a legacy single-byte guess.

    A file that is UTF-8 but for a few bad bytes keeps them as lone surrogates (surrogateescape),
    so only those rows are quarantined rather than the whole file.
    """
    for bom, enc in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(enc), enc
            except UnicodeDecodeError as exc:
                raise IngestError(f"undecodable {enc} text at byte {exc.start}") from None
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    lines = raw.splitlines()
    bad = sum(1 for line in lines if not _is_utf8(line))
    non_ascii = sum(1 for line in lines if any(b > 127 for b in line))
    if non_ascii and bad == non_ascii:
        # No line is valid multi-byte UTF-8: a legacy export. English/French Windows exports are
        # cp1252 (Excel's "CSV"); other single-byte code pages are guessed.
        try:
            return raw.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            pass
        from charset_normalizer import from_bytes

        best = from_bytes(raw).best()
        enc = best.encoding if best is not None else "cp1252"
        return raw.decode(enc, errors="surrogateescape"), enc
    return raw.decode("utf-8", errors="surrogateescape"), "utf-8 (with undecodable bytes)"


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _strings(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame.columns = [str(c).strip() for c in frame.columns]
    data = {
        col: pd.Series([_cell(v) for v in frame[col].tolist()], dtype=object)
        for col in frame.columns
    }
    return pd.DataFrame(data, columns=list(frame.columns), dtype=object)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    if hasattr(value, "isoformat") and not isinstance(value, str):
        return str(value.isoformat())
    return str(value)


def _read_csv_file(path: Path) -> tuple[pd.DataFrame, str]:
    """A CSV file as a frame, and its encoding. A file with a BOM, else as UTF-8, is parsed as it
    is read: the decoded text is never held whole (at a million rows it was ~0.6-1.2 GB beside
    the cells). A byte that does not decode sends the file to `decode_bytes`, which sees it
    whole (legacy encodings, or UTF-8 with a few bad bytes quarantined row by row)."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    encoding = next((enc for bom, enc in _BOMS if head.startswith(bom)), "utf-8")
    try:
        with open(path, encoding=encoding, newline="") as fh:
            sample = fh.read(20000)
            fh.seek(0)
            return _read_csv(fh, sample, path), encoding
    except UnicodeDecodeError:
        pass
    try:
        text, encoding = decode_bytes(path.read_bytes())
    except IngestError as exc:
        raise IngestError(f"{path}: {exc}") from None
    return _read_csv(_lines(text), text[:20000], path), encoding


# The csv module refuses a cell over 131,072 characters by default; a long description is
# no reason to refuse a file. The limit is the process's (a C long): raised, never lowered.
_FIELD_LIMIT = 2**31 - 1


def _read_csv(lines: Iterable[str], sample: str, path: Path) -> pd.DataFrame:
    delimiter = ","
    try:
        delimiter = csv.Sniffer().sniff(_whole_records(sample), delimiters=",;\t|").delimiter
    except csv.Error:
        if path.suffix.lower() == ".tsv":
            delimiter = "\t"
    if csv.field_size_limit() < _FIELD_LIMIT:
        csv.field_size_limit(_FIELD_LIMIT)
    # `ended` is set when the reader asks past the last line: a row it returns after that ran to
    # the end of the file inside a quoted cell (without a limit, silently the rest of the file).
    ended: list[bool] = []
    reader = csv.reader(itertools.chain(lines, _mark_end(ended)), delimiter=delimiter)
    try:
        first = next(reader, None)
        if first is None:
            raise IngestError(f"{path}: the file is empty (no header row)")
        if ended:
            _unclosed_quote(path, [], first, 1)
        header = [h.strip() or f"column_{i + 1}" for i, h in enumerate(first)]
        _check_header(header, path)
        width = len(header)
        # Column by column, as the rows are parsed: no list of row lists beside the text.
        columns: list[list[str]] = [[] for _ in header]
        errors: list[str] = []
        for r in reader:
            if ended:
                _unclosed_quote(path, header, r, len(errors) + 2)
            error = ""
            if len(r) > width and any(x.strip() for x in r[width:]):
                error = f"the row has {len(r)} cells but the header has {width} columns"
            for c, column in enumerate(columns):
                column.append(r[c] if c < len(r) else "")
            errors.append(error)
    except csv.Error as exc:
        raise IngestError(f"{path}: not valid CSV: {exc}") from None
    frame = pd.DataFrame(
        {h: pd.Series(col, dtype=object) for h, col in zip(header, columns, strict=True)},
        columns=header,
    )
    if any(errors):
        frame[ROW_ERROR] = errors
    return frame


_QUOTE_OR_EOL = re.compile(r'"|\r\n?|\n')


def _whole_records(sample: str) -> str:
    """The sample up to the end of its last whole record (a line break outside quotes): a cell
    cut off at the sample's end makes the sniffer guess wrong."""
    end, quoted = 0, False
    for m in _QUOTE_OR_EOL.finditer(sample):
        if m.group() == '"':
            quoted = not quoted
        elif not quoted:
            end = m.end()
    return sample[:end] or sample


def _mark_end(ended: list[bool]) -> Iterator[str]:
    ended.append(True)
    yield from ()


def _unclosed_quote(path: Path, header: list[str], cells: list[str], row: int) -> NoReturn:
    column = header[len(cells) - 1] if 0 < len(cells) <= len(header) else f"cell {len(cells)}"
    raise IngestError(
        f"{path}: row {row}, column {column!r}: a quoted cell opens and is never closed, so "
        'the rest of the file would be read as that one cell; close or remove the quote (")'
    )


_LINE = re.compile(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+")


def _lines(text: str) -> Iterator[str]:
    """The text's lines with their endings, as `csv` reads a file opened with newline="" (\n,
    \r\n or a lone \r end a line). `io.StringIO(text)` held the text again at 4 bytes a
    character: at a million rows, gigabytes."""
    return (m.group() for m in _LINE.finditer(text))


def _check_header(header: list[str], path: Path) -> None:
    if not any(header):
        raise IngestError(f"{path}: the header row is empty")
    seen: set[str] = set()
    dupes = sorted({h for h in header if h and (h in seen or seen.add(h))})  # type: ignore[func-returns-value]
    if dupes:
        raise IngestError(f"{path}: duplicated column name(s) in the header: {', '.join(dupes)}")


def read_table(path: str | Path, format: str | FileFormat | None = None) -> Table:
    """Read one file into a `Table` (a workbook's first sheet); raise `IngestError` naming the
    file if it cannot be read."""
    return _read(Path(path), format, all_sheets=False)[0]


def read_tables(
    path: str | Path,
    format: str | FileFormat | None = None,
    *,
    until: Callable[[Table], bool] | None = None,
) -> list[Table]:
    """Read one file into `Table`s: every sheet of a workbook (in the workbook's order, a sheet
    with an empty header left out), else the one table of the file. With `until`, a workbook's
    sheets are read up to the first one it accepts (the sheets after it are not parsed). Raise
    `IngestError` naming the file if it cannot be read."""
    return _read(Path(path), format, all_sheets=True, until=until)


def _read(
    path: Path,
    format: str | FileFormat | None,
    all_sheets: bool,
    until: Callable[[Table], bool] | None = None,
) -> list[Table]:
    if not path.exists():
        raise IngestError(f"{path}: no such file")
    if path.is_dir():
        raise IngestError(f"{path}: is a directory, not a file")
    fmt = detect_format(path, format)
    encoding = ""
    try:
        if fmt is FileFormat.CSV:
            frame, encoding = _read_csv_file(path)
        elif fmt is FileFormat.XLSX:
            return _read_sheets(path, all_sheets, until)
        elif fmt is FileFormat.PARQUET:
            frame = pd.read_parquet(path)
        elif fmt is FileFormat.JSON:
            text, encoding = decode_bytes(path.read_bytes())
            data = json.loads(text)
            if isinstance(data, dict):
                for key in ("records", "initiatives", "data", "items", "projects"):
                    if isinstance(data.get(key), list):
                        data = data[key]
                        break
                else:
                    data = [data]
            if not isinstance(data, list):
                raise IngestError(
                    f"{path}: JSON must be a list of objects (or {{'records': [...]}})"
                )
            frame = _records_frame(data, path)
        else:  # JSONL
            text, encoding = decode_bytes(path.read_bytes())
            items: list[object] = []
            for n, line in enumerate(text.splitlines(), start=1):
                if not line.strip():
                    continue
                try:
                    items.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    # the line itself goes to the quarantine with the reason (capped)
                    items.append(
                        {ROW_ERROR: f"line {n} is not valid JSON: {exc.msg}", "line": line[:10_000]}
                    )
            frame = _records_frame(items, path)
    except IngestError:
        raise
    except json.JSONDecodeError as exc:
        raise IngestError(f"{path}: not valid JSON at line {exc.lineno}: {exc.msg}") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IngestError(f"{path}: cannot read as {fmt.value}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - third-party readers raise anything (zipfile, arrow)
        raise IngestError(
            f"{path}: cannot read as {fmt.value}: {type(exc).__name__}: {exc}"
        ) from None
    if fmt is not FileFormat.CSV:  # CSV cells are strings already
        frame = _strings(frame)
    return [Table(path=path, format=fmt, frame=frame, encoding=encoding)]


def _read_sheets(
    path: Path, all_sheets: bool, until: Callable[[Table], bool] | None = None
) -> list[Table]:
    """A workbook's first visible sheet, or every visible sheet that has a header, in order (up
    to the first one `until` accepts). Hidden sheets (a stale copy, lookup lists) are not read;
    blank rows above a header are skipped."""
    tables: list[Table] = []
    with pd.ExcelFile(path, engine="openpyxl") as book:
        hidden = {
            ws.title for ws in getattr(book.book, "worksheets", ()) if ws.sheet_state != "visible"
        }
        visible = [str(n) for n in book.sheet_names if str(n) not in hidden]
        for name in visible if all_sheets else visible[:1]:
            frame, header_row = _read_sheet(book, name)
            columns = [str(c) for c in frame.columns]
            if not all_sheets:
                _check_header(columns, path)
            elif not any(c.strip() for c in columns):
                continue
            others = tuple(n for n in visible if n != name)
            tables.append(
                Table(
                    path,
                    FileFormat.XLSX,
                    _strings(frame),
                    sheet=name,
                    header_row=header_row,
                    other_sheets=others,
                )
            )
            if until is not None and until(tables[-1]):
                break
    if not tables:
        raise IngestError(f"{path}: no sheet has a header row")
    return tables


def _read_sheet(book: pd.ExcelFile, name: str) -> tuple[pd.DataFrame, int]:
    """A sheet with its header, and the header's row: the first row with a value in it."""
    frame = pd.read_excel(book, sheet_name=name, dtype=object)
    if len(frame) and all(str(c).startswith("Unnamed: ") for c in frame.columns):
        filled = frame.notna().any(axis=1).to_numpy()
        if filled.any():  # the header is further down: row 1 of the sheet is blank
            skip = int(filled.argmax()) + 1
            return pd.read_excel(book, sheet_name=name, dtype=object, skiprows=skip), skip + 1
    return frame, 1


def _records_frame(items: list[object], path: Path) -> pd.DataFrame:
    rows: list[dict[str, object]] = []
    for item in items:
        if isinstance(item, dict):
            rows.append({str(k): v for k, v in item.items()})
        else:
            rows.append({ROW_ERROR: f"expected an object, got {type(item).__name__}"})
    if not rows:
        raise IngestError(f"{path}: no records in the file")
    return pd.DataFrame(rows, dtype=object)
