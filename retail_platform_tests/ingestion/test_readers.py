"""Readers (no database): every format and encoding becomes exports of text rows in canonical order."""

from __future__ import annotations

import datetime as dt
import gzip
import random
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from retail_platform.ingestion import csv_files, exports
from retail_platform.ingestion.readers import FileRejected, detect_encoding, file_format, read_exports
from retail_platform.sample_data import CANONICAL_COLUMNS, HEADER_SPELLINGS, write_sample
from retail_platform_tests.helpers import UCI2_HEADER, line, write_csv
from retail_platform_tests.ingestion.support import sample_frame

ROWS, SEED = 400, 21


def staged(path: Path) -> list[tuple[str, list[tuple]]]:
    """The exports that hold lines (sheets skipped as not tables are left out) and their rows."""
    return [(export.name, list(export.rows)) for export in read_exports(path) if export.skipped is None]


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".xlsx", ".parquet"])
def test_every_format_stages_every_line_in_canonical_order(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"sample{suffix}"
    written = write_sample(path, ROWS, SEED, spelling="uci1")
    frame = sample_frame(ROWS, SEED)
    [(name, rows)] = staged(path)
    assert name == ("Year 2009-2010" if suffix == ".xlsx" else path.name)  # a workbook's export is its sheet
    assert len(rows) == written == len(frame)
    # one row per data line, numbered as the line (the header is line 1)
    assert [row[1] for row in rows] == list(range(2, ROWS + 2))
    assert all(row[0] == 0 and row[2] is None for row in rows)
    for column in ("invoice_no", "stock_code", "country"):
        position = 4 + CANONICAL_COLUMNS.index(column)
        assert [row[position] for row in rows] == frame[column].astype(str).tolist(), column
    quantities = [int(float(row[4 + 3])) for row in rows]
    assert quantities == frame["quantity"].astype(int).tolist()


def test_file_format_from_the_name(tmp_path: Path) -> None:
    assert file_format(Path("a.CSV")) == "csv"
    assert file_format(Path("a.2010.csv.gz")) == "csv.gz"
    assert file_format(Path("Online Retail II.xlsx")) == "xlsx"
    assert file_format(Path("part-0.parquet")) == "parquet"
    for name in ("notes.txt", "data.json", "data.csv.zip", "README"):
        with pytest.raises(FileRejected, match="unsupported file type"):
            file_format(Path(name))


def test_empty_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(FileRejected, match="empty"):
        staged(path)


def test_header_with_bom_still_maps(tmp_path: Path) -> None:
    rows = [line(invoice=str(489434 + i)) for i in range(5)]
    path = write_csv(tmp_path / "bom.csv", rows, encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbfInvoice,")
    [(_, staged_rows)] = staged(path)
    assert [row[4] for row in staged_rows] == [r[0] for r in rows]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "latin-1"])
def test_accented_description_reads_correctly_in_every_encoding(tmp_path: Path, encoding: str) -> None:
    # the accented line sits deep in the file, past the first read block of the encoding sniffer
    rows = [
        line(invoice=str(500000 + i), description=f"PLAIN ITEM {i:05d} " + "X" * 60) for i in range(20_000)
    ]
    rows.append(line(invoice="599999", description="CAFÉ CRÈME SET, DÉCOR NOËL"))
    path = write_csv(tmp_path / f"{encoding}.csv", rows, encoding=encoding)
    assert path.stat().st_size > 1 << 20
    assert detect_encoding(path) == ("latin-1" if encoding == "latin-1" else "utf-8-sig")
    [(_, staged_rows)] = staged(path)
    assert staged_rows[-1][4:6] == ("599999", "85048")
    assert staged_rows[-1][6] == "CAFÉ CRÈME SET, DÉCOR NOËL"
    assert len(staged_rows) == len(rows)


@pytest.mark.parametrize("window", [1, 2, 3, 5, 4096])
def test_the_utf8_check_agrees_with_pythons_decoder_at_any_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, window: int
) -> None:
    """Windows of a few bytes cut through every multi-byte character; damaged, cut, overlong and surrogate
    sequences still give the decoder's verdict."""
    monkeypatch.setattr(csv_files, "_UTF8_WINDOW", window)
    rng = random.Random(window)
    samples = [
        b"\xed\xa0\x80",
        b"\xc0\xaf",
        b"\xf4\x90\x80\x80",
        "x\u20ac".encode()[:-1],
        "\U0001f600".encode() * 3,
    ]
    for _ in range(150):
        data = "".join(rng.choice("a\xe9\u20ac\U0001f600\n,") for _ in range(rng.randint(1, 30))).encode()
        if rng.random() < 0.3:
            data = data[: rng.randint(0, len(data))]
        if data and rng.random() < 0.3:
            at = rng.randrange(len(data))
            data = data[:at] + bytes([rng.randrange(256)]) + data[at + 1 :]
        samples.append(data)
    path = tmp_path / "sample.csv"
    for data in samples:
        path.write_bytes(data)
        try:
            data.decode("utf-8")
            valid = True
        except UnicodeDecodeError:
            valid = False
        assert csv_files._is_utf8(path) is valid, data


def test_latin1_gzip(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv.gz"
    with gzip.open(path, "wt", encoding="latin-1", newline="") as stream:
        stream.write(",".join(UCI2_HEADER) + "\n")
        stream.write("489434,85048,PÂTÉ DISH,1,2010-12-01 08:26:00,2.1,13085,France\n")
    [(_, rows)] = staged(path)
    assert rows[0][6] == "PÂTÉ DISH"


def test_semicolon_and_tab_delimited_exports(tmp_path: Path) -> None:
    for delimiter, name in ((";", "semi.csv"), ("\t", "tab.csv")):
        path = tmp_path / name
        path.write_text(
            delimiter.join(UCI2_HEADER)
            + "\n"
            + delimiter.join(line(price="2,10" if delimiter == "\t" else 2.1))
            + "\n",
            encoding="utf-8",
        )
        [(_, rows)] = staged(path)
        assert rows[0][4] == "489434" and rows[0][11] == "United Kingdom"


def test_wrong_number_of_fields_is_a_structural_error_on_its_row(tmp_path: Path) -> None:
    rows = [line(), [*line(), "surplus"], line()[:5], [], line()]
    path = write_csv(tmp_path / "fields.csv", rows)
    [(_, staged_rows)] = staged(path)
    # the blank line (row 5) carries no data and is skipped; the others keep their line numbers
    assert [row[1] for row in staged_rows] == [2, 3, 4, 6]
    assert staged_rows[0][2] is None and staged_rows[3][2] is None
    assert staged_rows[1][2] == "line has 9 fields, the header has 8"
    assert staged_rows[1][3].endswith(",surplus")
    assert staged_rows[2][2] == "line has 5 fields, the header has 8"
    assert all(value is None for value in staged_rows[1][4:])


def test_missing_column_rejects_the_file_and_counts_its_lines(tmp_path: Path) -> None:
    header = [name for name in UCI2_HEADER if name != "Quantity"]
    path = write_csv(tmp_path / "noqty.csv", [line()[:3] + line()[4:] for _ in range(7)], header=header)
    with pytest.raises(FileRejected, match="missing columns quantity") as caught:
        staged(path)
    kept = list(caught.value.keep())  # every line's text, for raw.rejected_lines (issue 13, defect 8)
    assert [(row, column) for _, row, _, column in kept] == [(number, "quantity") for number in range(2, 9)]
    assert all(text.count(",") == 6 for _, _, text, _ in kept)


def test_xlsx_every_sheet_is_an_export_and_empty_sheets_are_skipped(tmp_path: Path) -> None:
    workbook = Workbook()
    first = workbook.active
    first.title = "Year 2009-2010"
    first.append(UCI2_HEADER)
    first.append(
        [
            489434,
            "85048",
            "GLASS BALL",
            12,
            pd.Timestamp("2009-12-01 07:45").to_pydatetime(),
            6.95,
            13085.0,
            "United Kingdom",
        ]
    )
    first.append([None] * 8)  # a blank row keeps the numbering of the rows below it
    first.append(
        [
            "C489449",
            "22087",
            None,
            -12,
            pd.Timestamp("2009-12-01 10:33").to_pydatetime(),
            0.85,
            None,
            "Australia",
        ]
    )
    workbook.create_sheet("Empty")
    notes = workbook.create_sheet("Notes")  # issue 13, defect 14: a sheet of text is skipped, not a rejection
    notes.append(["About this export", "Description"])
    notes.append(["Prices are in GBP", "one line per invoice line"])
    second = workbook.create_sheet("Year 2010-2011")
    second.append([HEADER_SPELLINGS["uci1"][c] for c in CANONICAL_COLUMNS])
    second.append(
        ["536365", "85123A", "WHITE HANGING HEART", 6, "12/1/2010 8:26", "2.55", 17850, "United Kingdom"]
    )
    path = tmp_path / "book.xlsx"
    workbook.save(path)
    exports = staged(path)
    assert [name for name, _ in exports] == ["Year 2009-2010", "Year 2010-2011"]
    skipped = [export.skipped for export in read_exports(path) if export.skipped is not None]
    assert len(skipped) == 1  # an empty sheet goes without a word
    assert skipped[0].startswith(
        "sheet 'Notes' skipped, not a table of transactions: its first row names 1 of"
    )
    first_rows, second_rows = exports[0][1], exports[1][1]
    assert [row[1] for row in first_rows] == [2, 4]
    assert first_rows[0][4:10] == ("489434", "85048", "GLASS BALL", "12", "2009-12-01 07:45:00", "6.95")
    assert float(first_rows[0][10]) == 13085 and first_rows[0][11] == "United Kingdom"
    assert first_rows[1][6] is None and first_rows[1][10] is None
    assert second_rows[0][4:] == (
        "536365",
        "85123A",
        "WHITE HANGING HEART",
        "6",
        "12/1/2010 8:26",
        "2.55",
        "17850",
        "United Kingdom",
    )


def test_parquet_timestamps_of_every_unit_and_floats_become_text(tmp_path: Path) -> None:
    stamps = [pd.Timestamp("2010-12-01 08:26:00"), pd.Timestamp("2010-12-09 20:01:00")]
    for unit in ("s", "ms", "us", "ns"):
        table = pa.table(
            {
                "InvoiceNo": ["536365", "C536379"],
                "StockCode": ["85123A", "D"],
                "Description": ["WHITE HANGING HEART", None],
                "Quantity": pa.array([6, -1], pa.int32()),
                "InvoiceDate": pa.array(stamps, pa.timestamp(unit)),
                "UnitPrice": [2.55, 27.5],
                "CustomerID": [17850.0, None],
                "Country": ["United Kingdom", "United Kingdom"],
            }
        )
        path = tmp_path / f"{unit}.parquet"
        pq.write_table(table, path)
        [(_, rows)] = staged(path)
        dates = [row[8] for row in rows]
        # at most microseconds, which is what the warehouse keeps
        assert [pd.Timestamp(d) for d in dates] == stamps, unit
        assert all(len(d.rpartition(".")[2]) <= 6 for d in dates if "." in d), dates
        assert [float(row[9]) for row in rows] == [2.55, 27.5]
        assert float(rows[0][10]) == 17850 and rows[1][10] is None and rows[1][6] is None


def test_xlsx_cells_become_the_text_the_workbook_shows_by_rows_and_by_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exports, "BATCH_ROWS", 2)  # batches end inside the sheet, around blank rows
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Offset"
    header = ["Note", *UCI2_HEADER]  # from column C on: columns A and B stay empty, "Note" is extra
    for column, name in enumerate(header, start=3):
        sheet.cell(row=1, column=column, value=name)
    cells = [
        ["x", 536365, "85123A", "WHITE", 6, dt.datetime(2010, 12, 1, 8, 26), 2.55, 17850.0, "UK"],
        [None] * 9,  # blank: skipped, but counted
        [None, "C536379", 85123, None, -1.0, dt.datetime(2010, 12, 1, 9, 41, 3, 500000), 1e-05, None, "EIRE"],
        ["only a note", None, None, None, None, None, None, None, None],  # a line without values
        [None, "536380", "D", "  padded ", 12.5, dt.date(2010, 12, 2), 27.0, True, "France"],
    ]
    for row, values in enumerate(cells, start=2):
        for column, value in enumerate(values, start=3):
            if value is not None:
                sheet.cell(row=row, column=column, value=value)
    late = workbook.create_sheet("Late header")  # row 1 is blank: not an export, as before
    for column, name in enumerate(UCI2_HEADER, start=1):
        late.cell(row=3, column=column, value=name)
    late.cell(row=4, column=1, value=1)
    path = tmp_path / "cells.xlsx"
    workbook.save(path)

    [(name, rows)] = staged(path)
    assert name == "Offset"
    assert [tuple(row[1:]) for row in rows] == [
        (2, None, None, "536365", "85123A", "WHITE", "6", "2010-12-01 08:26:00", "2.55", "17850", "UK"),
        (4, None, None, "C536379", "85123", None, "-1", "2010-12-01 09:41:03.500000", "1e-05", None, "EIRE"),
        (5, None, None, None, None, None, None, None, None, None, None),
        (6, None, None, "536380", "D", "  padded ", "12.5", "2010-12-02 00:00:00", "27", "True", "France"),
    ]
    [export] = read_exports(path)
    by_batches = [tuple(row.values()) for batch in export.text_batches() for row in batch.to_pylist()]
    assert by_batches == [tuple(row[1:]) for row in rows]


def test_xlsx_with_a_sheet_that_cannot_be_parsed_is_rejected(tmp_path: Path) -> None:
    source = tmp_path / "source.xlsx"
    write_sample(source, 50, SEED)
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(broken, "w") as zout:
        for name in zin.namelist():
            content = zin.read(name)
            zout.writestr(
                name, content[: len(content) // 2] if name.startswith("xl/worksheets/") else content
            )
    with pytest.raises(FileRejected, match="cannot read sheet 'Year 2009-2010'"):
        staged(broken)
