"""Reading a bulk registration file: Cumulocity's CSV format, line by line (API.md §8.3). Pure.

- UTF-8, a byte order mark ignored; line ends ``\\n``, ``\\r\\n`` or ``\\r``.
- The first line that is not blank is the header. Its separator, ``;``, ``,`` or a
  tab, is the one it uses most (outside quotes), and every line uses it.
- Columns in any order and any letter case; ``ID`` is required, ``PATH``, ``TENANT``
  and ``CREDENTIALS`` are read, any other (``TYPE``, ``NAME``, ``ICCID``, ...) is
  accepted and ignored.
- Quoted fields as in RFC 4180 (separators, quotes doubled, even line breaks
  inside); white space around a field is dropped.
- Blank lines, and lines whose every field is empty (``;;;`` from a spreadsheet),
  are skipped and not counted.
- Line numbers are the file's own, as an editor shows them: the header is line 1
  (after any blank lines before it), a record spanning lines has the number of
  its first line.

A file that cannot be read at all (not UTF-8, no header, no ``ID`` column, a
column twice, too many lines) raises :class:`~resolvers.errors.InvalidInput`;
anything wrong with one line is left to that line (:attr:`CsvLine.problem`, and
the rules of ``resolvers/bulk_registration.py``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from resolvers.errors import InvalidInput

SEPARATORS = (";", ",", "\t")
MAX_LINES = 100_000
ID, PATH, TENANT, CREDENTIALS = "ID", "PATH", "TENANT", "CREDENTIALS"
_BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class CsvLine:
    """One device line of the file, its fields stripped (empty optional fields: ``None``)."""

    line: int
    id: str
    path: str | None = None
    tenant: str | None = None
    #: The line presets a password (a non-empty ``CREDENTIALS``).
    credentials: bool = False
    #: What is wrong with the line's shape (more fields than the header), if anything.
    problem: str | None = None


@dataclass(frozen=True)
class CsvFile:
    separator: str
    #: The header's column names, upper case, in file order.
    columns: tuple[str, ...]
    lines: list[CsvLine]


def decode(data: bytes | str) -> str:
    """The file's text, without a byte order mark; :class:`InvalidInput` when not UTF-8."""
    if isinstance(data, bytes):
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise InvalidInput(
                f"the file is not UTF-8 text (byte {error.start + 1} cannot be read); "
                "save it as CSV UTF-8"
            ) from None
    return data.removeprefix(_BOM)


def _count_outside_quotes(line: str, separator: str) -> int:
    count, quoted = 0, False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            count += 1
    return count


def detect_separator(header: str) -> str:
    """The separator a header line uses most outside quotes (``;`` for a single column)."""
    counts = [(_count_outside_quotes(header, s), -n, s) for n, s in enumerate(SEPARATORS)]
    return max(counts)[2]


def _first_line(text: str) -> str:
    for line in io.StringIO(text, newline=None):
        if line.strip():
            return line
    raise InvalidInput("the file is empty: the first line must be a header with an ID column")


def _columns(header: list[str]) -> tuple[str, ...]:
    columns = tuple(name.strip().upper() for name in header)
    seen: set[str] = set()
    for name in columns:
        if name and name in seen:
            raise InvalidInput(f"the header names the column {name} twice")
        seen.add(name)
    if ID not in seen:
        raise InvalidInput(
            "the header has no ID column: the first line must name the columns, "
            f"for example ID;PATH (found {';'.join(columns)[:200]!r})"
        )
    return columns


def read_csv(data: bytes | str) -> CsvFile:
    """Every device line of a bulk registration file (see the module docstring)."""
    text = decode(data)
    separator = detect_separator(_first_line(text))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator, quotechar='"')
    columns: tuple[str, ...] | None = None
    lines: list[CsvLine] = []
    ended = 0  # the physical line the previous record ended on
    try:
        for record in reader:
            start, ended = ended + 1, reader.line_num
            fields = [field.strip() for field in record]
            if not any(fields):
                continue
            if columns is None:
                columns = _columns(fields)
                index = {name: n for n, name in enumerate(columns)}
                id_at = index[ID]
                path_at, tenant_at = index.get(PATH), index.get(TENANT)
                credentials_at = index.get(CREDENTIALS)
                width = len(columns)
                continue
            if len(lines) >= MAX_LINES:
                raise InvalidInput(f"the file has more than {MAX_LINES:,} device lines")
            problem = None
            if len(fields) > width and any(fields[width:]):
                problem = f"the line has {len(fields)} fields but the header has {width} columns"
            fields += [""] * (width - len(fields))
            lines.append(
                CsvLine(
                    line=start,
                    id=fields[id_at],
                    path=(fields[path_at] or None) if path_at is not None else None,
                    tenant=(fields[tenant_at] or None) if tenant_at is not None else None,
                    credentials=credentials_at is not None and bool(fields[credentials_at]),
                    problem=problem,
                )
            )
    except csv.Error as error:
        raise InvalidInput(
            f"the file cannot be read as CSV near line {ended + 1}: {error}"
        ) from None
    if columns is None:
        raise InvalidInput("the file has no header: the first line must name the columns")
    return CsvFile(separator=separator, columns=columns, lines=lines)
