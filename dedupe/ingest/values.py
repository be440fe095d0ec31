"""Typed fields of a row — dates, amounts, owners' e-mail addresses, language — and what the
values of one file column decide together.

Two conventions cannot be read from one value alone and are decided per file column
(`ColumnConventions.of`, from every value of the column):

* **Date order.** `01/02/2023` is 1 February in a day-first (Canadian, British) export and
  January 2 in a month-first (American) one. A column where some value has a first part over 12
  (`31/12/2023`) is day-first; one where some value has a second part over 12 (`12/31/2023`) is
  month-first. In a column that shows neither, or both, a date whose two parts are 12 or under
  and differ is quarantined as ambiguous (write it `YYYY-MM-DD`); a date whose order is plain
  from its own parts (`31/12/2023`, `05/05/2023`) or its words (`1 Feb 2023`) is always read.
* **Decimal mark.** `1,500` is one thousand five hundred in English and one and a half in
  French. A value's own shape decides where it can (`1,5` and `2,25`: a decimal comma, since a
  thousands group has three digits; `1,500,000` and `1,500.50`: thousands commas); a value that
  could be either is read with the column's convention when its other values show exactly one,
  else by the side of its currency sign (`$1,500`: English; `1,500 $`: French), else it is
  quarantined as ambiguous; but for a lone dot (`1.500`), which is a decimal point unless the
  column shows decimal commas: neither English nor French Canada groups digits with dots.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from email.utils import getaddresses
from enum import Enum
from functools import lru_cache

from dateutil import parser as date_parser
from email_validator import EmailNotValidError, validate_email

from dedupe.text import detect_language


class RowInvalid(ValueError):
    """A row-level validation failure: the column and the reason."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


# ------------------------------------------------------------------------------------ dates

_YEAR = re.compile(r"^(?:FY\s*)?(\d{4})(?:\s*[-/–]\s*\d{2,4})?$", re.IGNORECASE)
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})$")
# Day and month in either order, then the year (a time may follow): 01/02/2023, 1.2.23, 1-2-2023
_NUMERIC_DATE = re.compile(r"(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})(?!\d)")


class DateOrder(str, Enum):
    """How a column writes dates whose two first parts are both 12 or under."""

    DAY_FIRST = "day-first"
    MONTH_FIRST = "month-first"
    UNDECIDED = "undecided"  # no value shows the order
    MIXED = "mixed"  # values show both orders


@dataclass(frozen=True)
class DateColumn:
    """A column's date order and the values that showed it (named in quarantine reasons)."""

    order: DateOrder = DateOrder.UNDECIDED
    day_first_example: str = ""
    month_first_example: str = ""

    @staticmethod
    def of(values: Iterable[str]) -> DateColumn:
        day_first = month_first = ""
        for value in values:
            m = _NUMERIC_DATE.match(value.strip())
            if m is None:
                continue
            first, second = int(m.group(1)), int(m.group(3))
            if first > 12 >= second and not day_first:
                day_first = value.strip()
            elif second > 12 >= first and not month_first:
                month_first = value.strip()
            if day_first and month_first:
                break
        if day_first and month_first:
            order = DateOrder.MIXED
        elif day_first:
            order = DateOrder.DAY_FIRST
        elif month_first:
            order = DateOrder.MONTH_FIRST
        else:
            order = DateOrder.UNDECIDED
        return DateColumn(order, day_first, month_first)


@lru_cache(maxsize=4096)
def parse_date(value: str, column: DateColumn = DateColumn()) -> str:
    """An ISO date (YYYY-MM-DD) from the date formats seen in government exports, a numeric
    day/month pair read in the column's order (module docstring). Memoised: an export repeats a
    few hundred distinct dates."""
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
    dayfirst = False
    numeric = _NUMERIC_DATE.match(value)
    if numeric:
        dayfirst = _day_first(value, int(numeric.group(1)), int(numeric.group(3)), column)
    try:
        parsed = date_parser.parse(value, default=datetime(2000, 1, 1), dayfirst=dayfirst)
    except (ValueError, OverflowError, TypeError):
        raise RowInvalid("start_date", f"not a date: {value!r}") from None
    if not 1900 <= parsed.year <= 2200:
        raise RowInvalid("start_date", f"date out of range: {value!r}")
    return parsed.date().isoformat()


def _day_first(value: str, first: int, second: int, column: DateColumn) -> bool:
    if first > 12 or second > 12 or first == second:
        return first > 12  # plain from the value itself (or either order gives the same date)
    if column.order is DateOrder.DAY_FIRST:
        return True
    if column.order is DateOrder.MONTH_FIRST:
        return False
    months = (
        "January February March April May June July August September October November December"
    ).split()
    readings = f"{first} {months[second - 1]} or {months[first - 1]} {second}"
    if column.order is DateOrder.MIXED:
        why = (
            f"the column has both day-first ({column.day_first_example!r}) and month-first "
            f"({column.month_first_example!r}) dates"
        )
    else:
        why = "no date in the column has a day over 12 to tell day-first from month-first"
    raise RowInvalid(
        "start_date", f"ambiguous date {value!r} ({readings}): {why}; write it as YYYY-MM-DD"
    )


# ---------------------------------------------------------------------------------- amounts

# A suffix's power of ten: k; M, MM, million; B, bn, billion; and French G (G$), Md, milliard
_MULTIPLIERS = dict.fromkeys(("k", "thousand", "thousands"), 3)
_MULTIPLIERS |= dict.fromkeys(("m", "mm", "mn", "million", "millions"), 6)
_MULTIPLIERS |= dict.fromkeys(("b", "bn", "billion", "billions"), 9)
_MULTIPLIERS |= dict.fromkeys(("g", "md", "mds", "milliard", "milliards"), 9)
_CURRENCY = r"(?:CA\$|C\$|US\$|[$£€]|CAD|USD|GBP|EUR)"
_AMOUNT = re.compile(
    rf"(?P<pre>{_CURRENCY})?\s*(?P<num>[-+]?\d[\d\s.,]*)\s*"
    rf"(?P<mult>{'|'.join(sorted(_MULTIPLIERS, key=len, reverse=True))})?\s*"
    rf"(?P<post>{_CURRENCY})?",
    re.IGNORECASE,
)
_SCIENTIFIC = re.compile(r"[-+]?\d+(?:\.\d+)?[eE][-+]?\d+")
_SPACES = re.compile(r"\s+")  # any Unicode space: no-break and narrow no-break spaces too
_SYMBOL = re.compile(r"[$£€]")


def _grouped(decimal: str) -> re.Pattern[str]:
    """A number with `decimal` as its decimal mark and one kind of thousands separator
    (a space, or the other of comma and dot), in groups of three."""
    sep = " ," if decimal == "." else " ."
    return re.compile(rf"[-+]?(?:\d{{1,3}}([{sep}])\d{{3}}(?:\1\d{{3}})*|\d+)(?:\{decimal}(\d+))?")


_POINT, _COMMA = _grouped("."), _grouped(",")


class DecimalMark(str, Enum):
    """Which decimal mark a column's amounts show."""

    POINT = "."
    COMMA = ","
    UNDECIDED = "undecided"
    MIXED = "mixed"


@dataclass(frozen=True)
class _Amount:
    point: Decimal | None  # the number read with a decimal point
    comma: Decimal | None  # ... with a decimal comma
    exponent: int  # the multiplier's power of ten
    sign_before: bool  # a currency sign before the number ($1,500), after it (1,500 $)
    sign_after: bool

    @property
    def evidence(self) -> DecimalMark:
        if self.point is not None and self.comma is None:
            return DecimalMark.POINT
        if self.comma is not None and self.point is None:
            return DecimalMark.COMMA
        return DecimalMark.UNDECIDED


def _number(pattern: re.Pattern[str], text: str, decimal: str) -> Decimal | None:
    m = pattern.fullmatch(text)
    if m is None:
        return None
    digits = text.replace(m.group(1), "") if m.group(1) else text
    return Decimal(digits.replace(decimal, "."))


def _amount(value: str) -> _Amount | None:
    m = _AMOUNT.fullmatch(_SPACES.sub(" ", value.strip()))
    if m is None:
        return None
    num = m.group("num").strip()
    exponent = _MULTIPLIERS[m.group("mult").lower()] if m.group("mult") else 0
    return _Amount(
        point=_number(_POINT, num, "."),
        comma=_number(_COMMA, num, ","),
        exponent=exponent,
        sign_before=bool(m.group("pre") and _SYMBOL.search(m.group("pre"))),
        sign_after=bool(m.group("post") and _SYMBOL.search(m.group("post"))),
    )


def decimal_mark(values: Iterable[str]) -> DecimalMark:
    """The decimal mark a column's amounts show by their shape (module docstring)."""
    seen: set[DecimalMark] = set()
    for value in values:
        amount = _amount(value) if value.strip() else None
        if amount is not None and amount.evidence is not DecimalMark.UNDECIDED:
            seen.add(amount.evidence)
            if len(seen) == 2:
                return DecimalMark.MIXED
    return seen.pop() if seen else DecimalMark.UNDECIDED


@lru_cache(maxsize=4096)
def parse_budget(value: str, column: DecimalMark = DecimalMark.UNDECIDED) -> float | None:
    """An amount in dollars: `1 500 000 $`, `1,5 M$`, `2,25 G$`, `$1.5M`, `1,500,000`, `250k`
    (k, M/MM/million, B/bn/billion, G/Md/milliard); the decimal mark as the module docstring
    says. Raise `RowInvalid` for what is not an amount or could be two."""
    text = value.strip()
    if not text:
        return None
    if _SCIENTIFIC.fullmatch(text):  # a spreadsheet's or Parquet file's float
        number = Decimal(text)
    else:
        amount = _amount(text)
        if amount is None:
            raise RowInvalid("budget", f"not an amount: {value!r}")
        number = _resolve(value, amount, column).scaleb(amount.exponent)
    result = float(number)
    if result != result or result in (float("inf"), float("-inf")):
        raise RowInvalid("budget", f"not a number: {value!r}")
    return result


def _resolve(value: str, amount: _Amount, column: DecimalMark) -> Decimal:
    point, comma = amount.point, amount.comma
    if point is None:
        if comma is None:
            raise RowInvalid("budget", f"not an amount: {value!r}")
        return comma
    if comma is None or point == comma:
        return point
    if column in (DecimalMark.POINT, DecimalMark.COMMA):
        return point if column is DecimalMark.POINT else comma
    if "," not in value:  # `1.500`: a dot alone is a decimal point
        return point
    if amount.sign_before != amount.sign_after:
        return point if amount.sign_before else comma
    raise RowInvalid(
        "budget",
        f"ambiguous amount {value!r}: {point.normalize():f} with a thousands comma or "
        f"{comma.normalize():f} with a decimal comma, and no other amount in the column has a "
        "shape that tells; write it without thousands separators (1500 or 1.5)",
    )


# ----------------------------------------------------------------------------------- owners

_MAILTO = re.compile(r"mailto:", re.IGNORECASE)
_OWNER_LIST = re.compile(r"[;|\n]+")


@lru_cache(maxsize=4096)
def parse_owners(value: str) -> tuple[tuple[str, str], ...]:
    """Every (display name, normalised address) of an e-mail cell: bare addresses, display
    forms (`Ann Lee <ann@tc.gc.ca>`, `"Lee, Ann" <ann@…>`, Outlook's `Lee, Ann <ann@…>`,
    `ann@… (Ann Lee)`), `mailto:` links; several separated by `;`, `,`, `|` or line breaks.
    Raise `RowInvalid` naming the address that is not one."""
    text = _MAILTO.sub("", value).strip()
    owners: dict[str, str] = {}
    for chunk in _OWNER_LIST.split(text):
        chunk = chunk.strip()
        if not chunk:
            continue
        if any(c in chunk for c in '<>()"'):
            pairs = _display_forms(chunk, value)
        else:
            pairs = [("", a) for a in re.split(r"[,\s]+", chunk) if a]
        for name, address in pairs:
            try:
                email = validate_email(address, check_deliverability=False).normalized
            except EmailNotValidError as exc:
                raise RowInvalid(
                    "owner_email", f"malformed e-mail {address!r} in {value!r}: {exc}"
                ) from None
            if email not in owners or not owners[email]:
                owners[email] = " ".join(name.split())
    if text and not owners:
        raise RowInvalid("owner_email", f"no e-mail address in {value!r}")
    return tuple((name, email) for email, name in owners.items())


def _display_forms(chunk: str, value: str) -> list[tuple[str, str]]:
    """`email.utils.getaddresses`, with Outlook's unquoted `Last, First <address>` put back
    together (the parser reads `Last` as an address of its own)."""
    out: list[tuple[str, str]] = []
    pending: list[str] = []
    for name, address in getaddresses([chunk]):
        if not name and not address:
            continue
        if not name and "@" not in address:
            pending.append(address)
            continue
        if pending:
            name = ", ".join([*pending, name] if name else pending)
            pending = []
        out.append((name, address))
    if pending:
        raise RowInvalid(
            "owner_email", f"no e-mail address for {', '.join(pending)!r} in {value!r}"
        )
    return out


# --------------------------------------------------------------------------------- language

_LANG = dict.fromkeys(("en", "eng", "english", "anglais"), "en")
_LANG |= dict.fromkeys(("fr", "fra", "fre", "french", "français", "francais"), "fr")
_BILINGUAL = frozenset({"bilingual", "bilingue", "both", "les deux"})


def parse_language(value: str, text: str) -> str:
    """`en` or `fr`: from the cell (English, French, a tag such as `en-CA` or `fr_CA`; a
    bilingual marker `en+fr` is its first language, `bilingual` is detected), detected from
    `text` when the cell is empty. Any other language is refused (`RowInvalid`): the index
    compares English and French only."""
    key = " ".join(value.split()).casefold()
    if not key:
        return detect_language(text)
    if key in _LANG:
        return _LANG[key]
    if key in _BILINGUAL:
        return detect_language(text)
    primary = re.split(r"[-_+/,;\s]", key, maxsplit=1)[0]
    if primary in _LANG:
        return _LANG[primary]
    raise RowInvalid(
        "language",
        f"unknown language {value!r}: expected English or French (en, fr, en-CA, fr-CA…), "
        "or an empty cell to detect it",
    )


# ------------------------------------------------------------------------------ conventions


@dataclass(frozen=True)
class ColumnConventions:
    """What a file's start-date and budget columns decide together (module docstring)."""

    dates: DateColumn = DateColumn()
    decimal: DecimalMark = DecimalMark.UNDECIDED

    @staticmethod
    def of(dates: Iterable[str], amounts: Iterable[str]) -> ColumnConventions:
        """From the column's (distinct) values; the first that show a date order are the
        examples quarantine reasons name."""
        return ColumnConventions(DateColumn.of(dates), decimal_mark(amounts))
