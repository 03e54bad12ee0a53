"""A catalogue of bad inputs (issue 13, deliverable 4): each class builds its file(s) in a drop folder, beside
a good file written by the project's sample generator, and says what the load must make of it.

Every file of a class uses invoice numbers of its own (``X<nn>-...``), so that no line of one class can be
"already present" because of another: each file's counts are its own. Expectations name the ledger status,
the lines loaded and rejected, words of the file's reason, and the rejected lines' rows and columns.
"""

from __future__ import annotations

import csv
import gzip
import io
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl import Workbook

from retail_platform.sample_data import write_sample
from retail_platform_tests.helpers import UCI2_HEADER, line

GOOD_FILE = "good.csv"
GOOD_LINES = 300


@dataclass(frozen=True)
class Expect:
    """What the ledger and raw.rejected_lines must say about one file of a class."""

    status: str
    loaded: int | None = None
    rejected: int | None = None
    read: int | None = None  # lines read, when the class knows it
    min_read: int = 0  # at least this many lines read (a truncated file: those before the damage)
    reason: str = ""  # words of the ledger row's error (the file-level reason or note)
    rows: tuple[int, ...] | None = None  # source rows of the rejected lines, in order
    columns: tuple[str | None, ...] | None = None  # their column_name, in the same order
    line_reason: str = ""  # words of every rejected line's reason


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path, str], list[Path]]  # (drop folder, invoice prefix) -> the files written
    expect: Expect


def good_lines(prefix: str, count: int = 20, **overrides: str) -> list[list[str]]:
    """``count`` valid lines of invoices of the class's own, one stock code each."""
    return [line(invoice=f"{prefix}{n:03d}", stock=f"S{n:03d}", **overrides) for n in range(count)]


def _csv_text(rows: list[list[str]], header: list[str] = UCI2_HEADER, delimiter: str = ",") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _write(path: Path, data: str | bytes, encoding: str = "utf-8", compress: bool = False) -> list[Path]:
    data = data.encode(encoding) if isinstance(data, str) else data
    path.write_bytes(gzip.compress(data, mtime=0) if compress else data)
    return [path]


def _with(prefix: str, bad: list[dict[str, str]], good: int = 40) -> list[list[str]]:
    """Good lines with the ``bad`` ones after them (rows good + 2 ...): few enough bad lines to stay under the
    share above which a whole file is rejected (10%)."""
    return good_lines(prefix, good) + [
        line(**{"invoice": f"{prefix}B{n}", "stock": f"B{n}", **values}) for n, values in enumerate(bad)
    ]


def _csv_case(name: str, bad: list[dict[str, str]], columns: tuple[str, ...], words: str = "") -> Case:
    rows = tuple(range(42, 42 + len(bad)))
    return Case(
        name,
        lambda folder, prefix: _write(folder / f"{name}.csv", _csv_text(_with(prefix, bad))),
        Expect("loaded", 40, len(bad), 40 + len(bad), rows=rows, columns=columns, line_reason=words),
    )


def _loaded_csv(
    name: str, text: Callable[[str], str | bytes], loaded: int = 20, suffix: str = ".csv"
) -> Case:
    return Case(
        name,
        lambda folder, prefix: _write(
            folder / f"{name}{suffix}", text(prefix), compress=suffix.endswith(".gz")
        ),
        Expect("loaded", loaded, 0),
    )


def _truncated_gzip(folder: Path, prefix: str) -> list[Path]:
    whole = gzip.compress(_csv_text(good_lines(prefix, 400)).encode(), mtime=0)
    return _write(folder / "truncated.csv.gz", whole[: len(whole) // 2])


def _workbook(folder: Path, name: str, sheets: dict[str, list[list]], merge: str | None = None) -> list[Path]:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
        if merge:
            sheet.merge_cells(merge)
    path = folder / name
    book.save(path)
    return [path]


def _sheet_rows(prefix: str, count: int = 20) -> list[list]:
    return [
        [
            f"{prefix}{n:03d}",
            f"S{n:03d}",
            "GLASS BALL",
            12,
            datetime(2010, 1, 5, 9, 30),
            6.95,
            13085,
            "United Kingdom",
        ]
        for n in range(count)
    ]


def _notes_sheet(folder: Path, prefix: str) -> list[Path]:
    notes = [["About this export", "Description"], ["Prices in GBP", "one row per invoice line"]]
    return _workbook(
        folder, "with_notes.xlsx", {"Notes": notes, "Year 2010": [UCI2_HEADER, *_sheet_rows(prefix)]}
    )


def _xlsx_missing_column(folder: Path, prefix: str) -> list[Path]:
    rows = [row[:5] + row[6:] for row in [UCI2_HEADER, *_sheet_rows(prefix)]]
    return _workbook(folder, "no_price.xlsx", {"Year 2010": rows})


def _formulas(folder: Path, prefix: str) -> list[Path]:
    rows = _sheet_rows(prefix)
    rows[3][5] = "=2*1.5"  # a formula without a cached value (as openpyxl writes it): an empty cell
    return _workbook(folder, "formulas.xlsx", {"Year 2010": [UCI2_HEADER, *rows]})


def _merged_cells(folder: Path, prefix: str) -> list[Path]:
    # the country of row 6 becomes part of row 5's cell: missing
    return _workbook(folder, "merged.xlsx", {"Year 2010": [UCI2_HEADER, *_sheet_rows(prefix)]}, merge="H5:H6")


def _unbalanced_quote(folder: Path, prefix: str) -> list[Path]:
    text = _csv_text(good_lines(prefix, 20))
    text += f'{prefix}Q,SQ,"OPEN QUOTE,12,2010-01-05 09:30:00,6.95,13085,United Kingdom\n'
    text += f"{prefix}R,SR,AFTER,12,2010-01-05 09:30:00,6.95,13085,United Kingdom\n"
    return _write(folder / "unbalanced.csv", text)


def _many_tiny(folder: Path, prefix: str) -> list[Path]:
    paths = []
    for n in range(40):
        paths += _write(folder / f"tiny_{n:02d}.csv", _csv_text([line(invoice=f"{prefix}{n:03d}")]))
    return paths


def _parquet(folder: Path, name: str, table: pa.Table) -> list[Path]:
    pq.write_table(table, folder / name)
    return [folder / name]


def _parquet_columns(prefix: str, count: int = 20) -> dict[str, pa.Array]:
    return {
        "Invoice": pa.array([f"{prefix}{n:03d}" for n in range(count)]),
        "StockCode": pa.array([f"S{n:03d}" for n in range(count)]),
        "Description": pa.array(["GLASS BALL"] * count),
        "Quantity": pa.array([12] * count),
        "InvoiceDate": pa.array([datetime(2010, 1, 5, 9, 30)] * count, pa.timestamp("us")),
        "Price": pa.array([6.95] * count),
        "Customer ID": pa.array([13085.0] * count),
        "Country": pa.array(["United Kingdom"] * count),
    }


def _nested_parquet(folder: Path, prefix: str) -> list[Path]:
    columns = _parquet_columns(prefix)
    columns["Description"] = pa.array([{"text": "GLASS BALL", "lang": "en"}] * 20)
    return _parquet(folder, "nested.parquet", pa.table(columns))


def _nested_extra_parquet(folder: Path, prefix: str) -> list[Path]:
    columns = _parquet_columns(prefix)
    columns["Tags"] = pa.array([["gift", "xmas"]] * 20)  # nested, but not one of the columns: ignored
    return _parquet(folder, "nested_extra.parquet", pa.table(columns))


def _parquet_missing_column(folder: Path, prefix: str) -> list[Path]:
    columns = _parquet_columns(prefix)
    del columns["Country"]
    return _parquet(folder, "no_country.parquet", pa.table(columns))


def _day(offset: int) -> str:
    """A day ``offset`` days from today (UTC). The cases are written when the module is imported and loaded
    minutes later, so a date meant to be beyond tomorrow stays three days ahead: a suite that crosses
    midnight between the two still sees it rejected."""
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


def _binary(folder: Path, _prefix: str) -> list[Path]:
    data = random.Random(13).randbytes(6_000)
    return _write(folder / "binary.csv", data)


def _huge_field(prefix: str) -> str:
    """A 200 KB description, and a blank line that sends the file down the csv module's path."""
    rows = [*good_lines(prefix), line(invoice=f"{prefix}H", description="x" * 200000)]
    return _csv_text(rows).replace("\n", "\n\n", 1)


CASES: list[Case] = [
    Case(
        "empty", lambda f, p: _write(f / "empty.csv", b""), Expect("rejected", 0, 0, 0, reason="empty file")
    ),
    Case(
        "header_only",
        lambda f, p: _write(f / "header_only.csv", _csv_text([])),
        Expect("rejected", 0, 0, 0, reason="no lines"),
    ),
    Case("binary", _binary, Expect("rejected", 0, reason="missing columns", min_read=10)),
    Case(
        "truncated_gzip",
        _truncated_gzip,
        Expect("rejected", 0, reason="truncated gzip at byte", min_read=100),
    ),
    Case(
        "not_gzip",
        lambda f, p: _write(f / "not_gzip.csv.gz", _csv_text(good_lines(p))),
        Expect("rejected", 0, reason="cannot read file"),
    ),
    Case(
        "corrupt_xlsx",
        lambda f, p: _write(f / "corrupt.xlsx", b"PK\x03\x04" + random.Random(5).randbytes(3_000)),
        Expect("rejected", 0, 0, 0, reason="not a readable XLSX"),
    ),
    Case("non_data_sheet", _notes_sheet, Expect("loaded", 20, 0, 20, reason="sheet 'Notes' skipped")),
    Case(
        "xlsx_missing_column",
        _xlsx_missing_column,
        Expect("rejected", 0, 20, 20, reason="missing columns unit_price", columns=("unit_price",) * 20),
    ),
    Case("formulas", _formulas, Expect("loaded", 19, 1, 20, rows=(5,), columns=("unit_price",))),
    Case("merged_cells", _merged_cells, Expect("loaded", 19, 1, 20, rows=(6,), columns=("country",))),
    _loaded_csv(
        "embedded_newline",
        lambda p: _csv_text([*good_lines(p, 19), line(invoice=f"{p}N", description="LINE\nBREAK")]),
    ),
    _loaded_csv(
        "embedded_quotes",
        lambda p: _csv_text([*good_lines(p, 19), line(invoice=f"{p}Q", description='SAY "HI", OK')]),
    ),
    Case(
        "unbalanced_quote",
        _unbalanced_quote,
        Expect("loaded", 20, 1, 21, rows=(23,), line_reason="fields, the header has 8"),
    ),
    _loaded_csv("semicolon_delimiter", lambda p: _csv_text(good_lines(p), delimiter=";")),
    _loaded_csv("tab_delimiter", lambda p: _csv_text(good_lines(p), delimiter="\t"), suffix=".csv.gz"),
    _loaded_csv("pipe_delimiter", lambda p: _csv_text(good_lines(p), delimiter="|")),
    _loaded_csv("utf8_bom", lambda p: "\ufeff" + _csv_text(good_lines(p))),
    _loaded_csv("latin1", lambda p: _csv_text(good_lines(p, description="CAFÉ CRÈME")).encode("latin-1")),
    _loaded_csv("crlf", lambda p: _csv_text(good_lines(p)).replace("\n", "\r\n")),
    _loaded_csv("bare_cr", lambda p: _csv_text(good_lines(p)).replace("\n", "\r")),
    _loaded_csv("blank_lines", lambda p: _csv_text(good_lines(p)).replace("\n", "\n\n", 5)),
    Case(
        "utf16",
        lambda f, p: _write(f / "utf16.csv", _csv_text(good_lines(p)), encoding="utf-16"),
        Expect("rejected", 0, 20, 20, reason="UTF-16"),
    ),
    _csv_case("nul_bytes", [{"description": "BAD\x00BYTE"}], (None,), "NUL bytes"),
    Case(
        "huge_field",  # 200 KB description plus a blank line (defect 9): the line, not the file
        lambda f, p: _write(f / "huge_field.csv", _huge_field(p)),
        Expect("loaded", 20, 1, 21, columns=("description",), line_reason="above the limit of 32768"),
    ),
    Case(
        "missing_column",  # defect 8: 300 lines counted rejected, and kept
        lambda f, p: _write(
            f / "no_price.csv",
            _csv_text([r[:5] + r[6:] for r in good_lines(p, 300)], [h for h in UCI2_HEADER if h != "Price"]),
        ),
        Expect("rejected", 0, 300, 300, reason="missing columns unit_price", columns=("unit_price",) * 300),
    ),
    Case(
        "duplicated_column",
        lambda f, p: _write(
            f / "two_prices.csv", _csv_text([[*r, "1.0"] for r in good_lines(p)], [*UCI2_HEADER, "UnitPrice"])
        ),
        Expect("rejected", 0, 20, 20, reason="appears twice", columns=("unit_price",) * 20),
    ),
    _loaded_csv(
        "extra_columns",
        lambda p: _csv_text([["7", *r, "note"] for r in good_lines(p)], ["Index", *UCI2_HEADER, "Notes"]),
    ),
    _csv_case(
        "numeric_overflow", [{"quantity": "99999999999"}, {"price": "1e999"}], ("quantity", "unit_price")
    ),
    _csv_case(
        "nan_and_infinity",
        [{"price": "NaN"}, {"quantity": "inf"}, {"price": "-Infinity"}],
        ("unit_price", "quantity", "unit_price"),
    ),
    _csv_case(
        "impossible_dates",
        [{"date": "2010-02-30 10:00:00"}, {"date": "2010-13-01 10:00:00"}, {"date": "2010-01-01 24:00:00"}],
        ("invoice_date",) * 3,
        "is not a date and time",
    ),
    _csv_case(
        "implausible_dates",
        [{"date": "9999-12-31 23:59:00"}, {"date": "1000-01-01 00:00:00"}, {"date": f"{_day(3)} 00:00:00"}],
        ("invoice_date",) * 3,
    ),
    _csv_case(
        "time_zones",
        [
            {"date": "2010-12-01T08:26:00+01:00"},
            {"date": "2010-12-01 08:26:00Z"},
            {"date": "2010-12-01 08:26:00 UTC"},
        ],
        ("invoice_date",) * 3,
        "is not a date and time",
    ),
    _csv_case(
        "bad_customer_ids",
        [{"customer": "-5"}, {"customer": "abc"}, {"customer": "12.5"}, {"customer": "0"}],
        ("customer_id",) * 4,
    ),
    _csv_case(
        "implausible_magnitudes", [{"price": "1e99"}, {"quantity": "5000000"}], ("unit_price", "quantity")
    ),
    _csv_case("float_quantity", [{"quantity": "12.5"}], ("quantity",), "is not an integer"),
    _csv_case(
        "blank_required_fields",
        [{"invoice": "   "}, {"country": ""}, {"stock": ""}],
        ("invoice_no", "country", "stock_code"),
    ),
    Case(
        "short_rows",
        lambda f, p: _write(
            f / "short_rows.csv", _csv_text(good_lines(p)) + f"{p}S,SS,ONLY FIVE,1,2010-01-05 09:30:00\n"
        ),
        Expect(
            "loaded",
            20,
            1,
            21,
            rows=(22,),
            columns=(None,),
            line_reason="line has 5 fields, the header has 8",
        ),
    ),
    Case(
        "too_many_bad_lines",
        lambda f, p: _write(f / "mostly_bad.csv", _csv_text(_with(p, [{"quantity": "x"}] * 10))),
        Expect("rejected", 0, 50, 50, reason="above the 10% limit"),
    ),
    _loaded_csv(
        "hostile_name_sql", lambda p: _csv_text(good_lines(p)), suffix="'; DROP TABLE raw.file_loads; --.csv"
    ),
    _loaded_csv(
        "hostile_name_unicode", lambda p: _csv_text(good_lines(p)), suffix=" -rf ü 名前 $(id) |x|.csv"
    ),
    Case(
        "unsupported_suffix",
        lambda f, p: _write(f / "export.json", '[{"Invoice": "1"}]'),
        Expect("rejected", 0, 0, 0, reason="unsupported file type"),
    ),
    Case("many_tiny_files", _many_tiny, Expect("loaded", 1, 0, 1)),
    Case(
        "nested_parquet",
        _nested_parquet,
        Expect("rejected", 0, 20, 20, reason="not a readable Parquet file"),
    ),
    Case("nested_extra_parquet", _nested_extra_parquet, Expect("loaded", 20, 0, 20)),
    Case(
        "parquet_missing_column",
        _parquet_missing_column,
        Expect("rejected", 0, 20, 20, reason="missing columns country", columns=("country",) * 20),
    ),
]


def build_drop(folder: Path) -> dict[str, list[Path]]:
    """The good file and every class's files in ``folder``; the files of each class by its name."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {"good": [folder / GOOD_FILE]}
    write_sample(folder / GOOD_FILE, GOOD_LINES, seed=3)
    for index, case in enumerate(CASES):
        files[case.name] = case.build(folder, f"X{index:02d}-")
    return files
