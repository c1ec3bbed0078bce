"""Reading bulk registration files as spreadsheets and Cumulocity write them (API.md §8.3).

Pure: no database. The files are built the way real tools save them: Excel's
"CSV UTF-8" (a byte order mark, ``;`` in many locales, CRLF), LibreOffice's
``,``, tab-separated exports, quoted fields.
"""

from __future__ import annotations

import csv
import io
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resolvers.csv_lines import MAX_LINES, CsvLine, detect_separator, read_csv
from resolvers.errors import InvalidInput

CUMULOCITY_HEADER = "ID;CREDENTIALS;TENANT;TYPE;NAME;ICCID;IDTYPE;PATH;SHELL"


def ids(data: bytes | str) -> list[tuple[int, str]]:
    return [(line.line, line.id) for line in read_csv(data).lines]


def test_a_cumulocity_export_with_bom_semicolons_and_crlf() -> None:
    text = (
        CUMULOCITY_HEADER
        + "\r\n"
        + "SN-1;;;c8y_Device;Pump 1;8944;c8y_Serial;Building 7/Floor 2;1\r\n"
        + "SN-2;;;c8y_Device;Pump 2;8945;c8y_Serial;;0\r\n"
    )
    parsed = read_csv(b"\xef\xbb\xbf" + text.encode())
    assert parsed.separator == ";"
    assert parsed.columns[0] == "ID"
    assert parsed.lines == [
        CsvLine(line=2, id="SN-1", path="Building 7/Floor 2"),
        CsvLine(line=3, id="SN-2"),
    ]


@pytest.mark.parametrize("separator", [";", ",", "\t"])
def test_each_separator_is_taken_from_the_header(separator: str) -> None:
    text = separator.join(["ID", "NAME", "PATH"]) + "\n"
    text += separator.join(["SN-1", "Pump; one, two", "Hall 1"]) + "\n"
    text = text.replace("Pump; one, two", '"Pump; one, two"')
    parsed = read_csv(text)
    assert parsed.separator == separator
    assert parsed.lines == [CsvLine(line=2, id="SN-1", path="Hall 1")]


def test_columns_in_any_order_and_letter_case() -> None:
    parsed = read_csv("name,Path,id,Tenant\nPump,Hall 1,SN-9,acme\n")
    assert parsed.lines == [CsvLine(line=2, id="SN-9", path="Hall 1", tenant="acme")]


def test_quoted_fields_keep_separators_quotes_and_line_breaks() -> None:
    text = 'ID;PATH\n"SN;1";"Hall ""A"";west"\n"SN-2";"Hall\nB"\nSN-3;C\n'
    parsed = read_csv(text)
    assert [(line.line, line.id, line.path) for line in parsed.lines] == [
        (2, "SN;1", 'Hall "A";west'),
        (3, "SN-2", "Hall\nB"),
        (5, "SN-3", "C"),  # the record before spans lines 3 and 4
    ]


def test_blank_lines_and_empty_records_are_skipped_but_keep_the_numbering() -> None:
    text = "\r\n\r\nID;PATH\r\n\r\nSN-1;\r\n;\r\n   \r\nSN-2;Hall\r\n\r\n"
    assert ids(text) == [(5, "SN-1"), (8, "SN-2")]


def test_old_mac_line_ends_count_as_lines() -> None:
    assert ids("ID\rSN-1\rSN-2\r") == [(2, "SN-1"), (3, "SN-2")]


def test_white_space_around_fields_is_dropped() -> None:
    parsed = read_csv(" ID ; PATH \n  SN-1 ;  Hall 1  \n")
    assert parsed.lines == [CsvLine(line=2, id="SN-1", path="Hall 1")]


def test_a_non_empty_credentials_field_is_marked() -> None:
    parsed = read_csv(CUMULOCITY_HEADER + "\nSN-1;secret123;;;;;;;\nSN-2;;;;;;;;\n")
    assert [(line.id, line.credentials) for line in parsed.lines] == [
        ("SN-1", True),
        ("SN-2", False),
    ]


def test_duplicate_lines_are_all_read_for_the_rules_to_judge() -> None:
    assert ids("ID\nSN-1\nSN-1\nSN-1\n") == [(2, "SN-1"), (3, "SN-1"), (4, "SN-1")]


def test_a_line_with_more_fields_than_the_header_has_a_problem() -> None:
    lines = read_csv("ID;PATH\nSN-1;Hall;extra\nSN-2;Hall;;\nSN-3\n").lines
    assert lines[0].problem == "the line has 3 fields but the header has 2 columns"
    assert lines[1].problem is None  # trailing empty fields are harmless
    assert lines[2] == CsvLine(line=4, id="SN-3")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\r\n \r\n", "empty"),
        (b"NAME;PATH\nPump;Hall\n", "no ID column"),
        (b"ID;PATH;id\nSN-1;;\n", "column ID twice"),
        ("ID\nSN-é\n".encode("latin-1"), "not UTF-8"),
    ],
)
def test_a_file_that_cannot_be_read_is_invalid_input(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        read_csv(data)


def test_one_hundred_thousand_lines_and_not_one_more() -> None:
    body = "".join(f"SN-{n:06};Site {n % 3}\r\n" for n in range(MAX_LINES))
    parsed = read_csv("ID;PATH\r\n" + body)
    assert len(parsed.lines) == MAX_LINES
    assert (parsed.lines[-1].line, parsed.lines[-1].id) == (MAX_LINES + 1, f"SN-{MAX_LINES - 1:06}")
    with pytest.raises(InvalidInput, match="more than 100,000"):
        read_csv("ID;PATH\r\n" + body + "SN-extra;\r\n")


def test_separator_detection_ignores_quoted_separators() -> None:
    assert detect_separator('"A;B;C",ID,PATH\n') == ","
    assert detect_separator("ID\n") == ";"
    assert detect_separator("ID\tPATH;x\tNAME\n") == "\t"


# ---------------------------------------------------------------- property-based

_field = st.text(
    alphabet=st.sampled_from(string.ascii_letters + string.digits + ' ;,\t"-/é'), max_size=12
)
_row = st.tuples(_field.filter(lambda s: s.strip() != ""), _field, _field)


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(_row, max_size=20),
    separator=st.sampled_from([";", ",", "\t"]),
    line_end=st.sampled_from(["\n", "\r\n"]),
    bom=st.booleans(),
    header=st.permutations(["ID", "PATH", "NAME"]),
)
def test_whatever_a_csv_writer_writes_reads_back(
    rows: list[tuple[str, str, str]],
    separator: str,
    line_end: str,
    bom: bool,
    header: list[str],
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=separator, lineterminator=line_end)
    writer.writerow(header)
    for id_, path, name in rows:
        values = {"ID": id_, "PATH": path, "NAME": name}
        writer.writerow([values[column] for column in header])
    data = ("\ufeff" if bom else "") + out.getvalue()

    parsed = read_csv(data.encode())

    assert parsed.separator == separator
    assert [(line.id, line.path) for line in parsed.lines] == [
        (id_.strip(), path.strip() or None) for id_, path, _ in rows
    ]
    numbers = [line.line for line in parsed.lines]
    assert numbers == sorted(set(numbers))
    assert all(n >= 2 for n in numbers)
