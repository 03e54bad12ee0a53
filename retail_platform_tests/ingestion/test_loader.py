"""Loading files into raw.transactions (SPEC §2-3): canonical values, exactly-once, accounting, bad lines."""

from __future__ import annotations

import random
import shutil
from collections import Counter
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, text

from retail_platform.ingestion.loader import LoadResult, load_file
from retail_platform.sample_data import CANONICAL_COLUMNS, HEADER_SPELLINGS, write_sample
from retail_platform_tests.helpers import UCI2_HEADER, line, write_csv
from retail_platform_tests.ingestion.support import (
    assert_accounting,
    count,
    csv_records,
    frame_rows,
    ledger,
    loaded_rows,
    rejected,
    sample_frame,
    wipe,
    write_lines,
)

ROWS, SEED = 800, 7


def load(engine: Engine, path: Path, **kwargs: object) -> LoadResult:
    return load_file(engine, path, progress=lambda _message: None, **kwargs)


def write_pandas_parquet(path: Path, frame: pd.DataFrame, spelling: str) -> Path:
    """Parquet as a data-frame user writes it: nanosecond timestamps, float customer ids (NaN for guests)."""
    out = frame.copy()
    out["invoice_date"] = out["invoice_date"].astype("datetime64[ns]")
    out["customer_id"] = out["customer_id"].astype("float64")
    out["quantity"] = out["quantity"].astype("float64")  # e.g. a column that went through a NaN once
    out.rename(columns=HEADER_SPELLINGS[spelling]).to_parquet(path, index=False)
    return path


# --- formats, spellings, encodings -----------------------------------------------------------------------


def test_same_content_in_every_format_loads_the_same_canonical_rows(engine: Engine, tmp_path: Path) -> None:
    frame = sample_frame(ROWS, SEED)
    expected = Counter(frame_rows(frame))
    assert frame.duplicated().any()  # the sample has identical lines, which every format must keep
    files = [
        tmp_path / "uci2.csv",
        tmp_path / "uci1.csv.gz",
        tmp_path / "snake_bom_float.csv",
        tmp_path / "latin1.csv",
        tmp_path / "snake.xlsx",
        tmp_path / "float_ids.xlsx",
        tmp_path / "uci2.parquet",
        tmp_path / "float_ids.parquet",
    ]
    write_sample(files[0], ROWS, SEED, spelling="uci2")
    write_sample(files[1], ROWS, SEED, spelling="uci1")
    write_sample(files[2], ROWS, SEED, spelling="snake", encoding="utf-8-sig", float_customer_ids=True)
    write_sample(files[3], ROWS, SEED, spelling="uci1", encoding="latin-1")
    write_sample(files[4], ROWS, SEED, spelling="snake")
    write_sample(files[5], ROWS, SEED, spelling="uci1", float_customer_ids=True)
    write_sample(files[6], ROWS, SEED, spelling="uci2")
    write_sample(files[7], ROWS, SEED, spelling="snake", float_customer_ids=True)
    files.append(write_pandas_parquet(tmp_path / "pandas_ns.parquet", frame, "uci2"))
    assert len({path.read_bytes() for path in files}) == len(files)

    per_format = {}
    for path in files:
        result = load(engine, path)
        assert (result.status, result.lines_read, result.lines_rejected) == ("loaded", ROWS, 0), result.error
        per_format[path.name] = Counter(loaded_rows(engine))
        wipe(engine)
    reference = per_format[files[0].name]
    assert reference == expected
    for name, rows in per_format.items():
        assert rows == reference, name

    # the same lines from any format are the same lines: in one warehouse they load once
    results = [load(engine, path) for path in files]
    assert results[0].lines_loaded == ROWS
    for result in results[1:]:
        assert (result.status, result.lines_loaded, result.lines_already_present) == ("loaded", 0, ROWS)
    assert Counter(loaded_rows(engine)) == expected
    assert_accounting(engine)


def test_latin1_and_utf8_accents_load_the_same_text(engine: Engine, tmp_path: Path) -> None:
    rows = [
        line(invoice="536365", description="CAFÉ CRÈME SET", country="France"),
        line(invoice="536366", description="PÂTÉ DISH NOËL", country="France"),
        line(invoice="536367"),
    ]
    latin = write_csv(tmp_path / "latin.csv", rows, encoding="latin-1")
    assert "CAFÉ".encode("latin-1") in latin.read_bytes()
    assert load(engine, latin).lines_loaded == len(rows)
    descriptions = [row[2] for row in loaded_rows(engine)]
    assert descriptions == [r[2] for r in rows]
    for encoding in ("utf-8", "utf-8-sig"):
        result = load(engine, write_csv(tmp_path / f"{encoding}.csv", rows, encoding=encoding))
        assert (result.lines_loaded, result.lines_already_present) == (0, len(rows)), encoding
    assert_accounting(engine)


# --- values ----------------------------------------------------------------------------------------------


def test_value_spellings_parse_to_the_same_identity(engine: Engine, tmp_path: Path) -> None:
    plain = [
        line(invoice="536365", date="2010-12-01 08:26:00", price="2.1", customer="13085"),
        line(invoice="536366", date="2010-12-01 08:28:00", price="0.001", customer="17850", quantity=-80995),
        line(invoice="536367", date="2010-12-09 20:01:00", price="18", customer=None, description=None),
    ]
    variants = [
        line(invoice="536365", date="12/1/2010 8:26", price="2.10", customer="13085.0"),
        line(
            invoice="536366", date="2010-12-01T08:28", price="0.0010", customer="17850.00", quantity="-80995"
        ),
        line(invoice="536367", date="12/9/2010 20:01:00", price="18.00", customer="", description=""),
    ]
    first = load(engine, write_csv(tmp_path / "plain.csv", plain))
    assert first.lines_loaded == len(plain)
    second = load(engine, write_csv(tmp_path / "variants.csv", variants))
    assert (second.lines_read, second.lines_loaded, second.lines_already_present) == (3, 0, 3)

    expected = [
        (
            r[0],
            r[1],
            r[2] or None,
            int(r[3]),
            datetime.fromisoformat(r[4]),
            Decimal(r[5]),
            int(r[6]) if r[6] else None,
            r[7],
        )
        for r in plain
    ]
    assert loaded_rows(engine) == expected
    assert_accounting(engine)


def test_us_dates_blank_description_and_guest_customer(engine: Engine, tmp_path: Path) -> None:
    rows = [
        line(invoice="536365", date="12/1/2010 8:26", description="", customer=""),
        line(invoice="536366", date="1/12/2011 17:05", customer="12346.0"),
        line(invoice="536367", date="2/29/2012 0:00", customer="13085"),
    ]
    result = load(engine, write_csv(tmp_path / "us.csv", rows))
    assert (result.lines_loaded, result.lines_rejected) == (3, 0), result.error
    loaded = {row[0]: row for row in loaded_rows(engine)}
    for r in rows:
        assert loaded[r[0]][4] == datetime.strptime(r[4], "%m/%d/%Y %H:%M")  # month first
        assert loaded[r[0]][6] == (int(float(r[6])) if r[6] else None)
    assert loaded["536365"][2] is None  # blank description is NULL, not ''
    with engine.connect() as conn:
        assert (
            conn.execute(text("SELECT count(*) FROM raw.transactions WHERE description = ''")).scalar() == 0
        )


# --- exactly once ----------------------------------------------------------------------------------------


def test_same_file_twice_or_renamed_loads_nothing_the_second_time(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    write_sample(path, 500, seed=3)
    _, records = csv_records(path)
    first = load(engine, path)
    assert (first.status, first.lines_read, first.lines_loaded) == ("loaded", len(records), len(records))

    renamed = tmp_path / "export (copy).csv"
    shutil.copy(path, renamed)
    for again in (path, renamed):
        result = load(engine, again)
        assert result.status == "duplicate"
        assert (result.lines_read, result.lines_loaded, result.lines_already_present) == (
            len(records),
            0,
            len(records),
        )
        assert result.duplicate_of == first.load_id
        assert "same content" in result.error and path.name in result.error
    assert count(engine, "raw.transactions") == len(records)
    rows = ledger(engine)
    assert [(r["file_name"], r["status"], r["duplicate_of"]) for r in rows] == [
        (path.name, "loaded", None),
        (path.name, "duplicate", first.load_id),
        (renamed.name, "duplicate", first.load_id),
    ]
    assert all("same content" in r["error"] for r in rows[1:])
    assert_accounting(engine)


def test_overlapping_exports_load_the_overlap_once(engine: Engine, tmp_path: Path) -> None:
    full = tmp_path / "full.csv"
    write_sample(full, 1500, seed=11, days=30)
    header, records = csv_records(full)
    days = sorted({r[4][:10] for r in records})
    first_days, second_days = set(days[: 2 * len(days) // 3]), set(days[len(days) // 3 :])
    first = [r for r in records if r[4][:10] in first_days]
    second = [r for r in records if r[4][:10] in second_days]
    overlap = [r for r in records if r[4][:10] in first_days & second_days]
    assert overlap and len(first) < len(records) and len(second) < len(records)
    assert Counter(map(tuple, overlap)) != Counter(set(map(tuple, overlap)))  # identical lines in the overlap

    a = load(engine, write_lines(tmp_path / "export_a.csv", header, first))
    b = load(engine, write_lines(tmp_path / "export_b.csv", header, second))
    assert (a.lines_read, a.lines_loaded, a.lines_already_present) == (len(first), len(first), 0)
    assert (b.lines_read, b.lines_loaded, b.lines_already_present) == (
        len(second),
        len(second) - len(overlap),
        len(overlap),
    )
    frame = sample_frame(1500, 11, days=30)
    assert Counter(loaded_rows(engine)) == Counter(frame_rows(frame))
    # and the full export afterwards brings nothing new
    c = load(engine, full)
    assert (c.lines_loaded, c.lines_already_present) == (0, len(records))
    assert_accounting(engine)


def test_identical_lines_in_one_file_are_all_kept_and_extra_copies_load_later(
    engine: Engine, tmp_path: Path
) -> None:
    x = line(invoice="536365", stock="85123A", quantity=6, date="2010-12-01 08:26:00")
    y = line(invoice="536365", stock="71053", quantity=6, date="2010-12-01 08:26:00")
    z = line(invoice="536366", stock="22633", quantity=6, date="2010-12-01 08:28:00")
    first_rows = [x, y, x]
    later_rows = [x, x, y, z, x]  # one more x than before, and a new z
    first = load(engine, write_csv(tmp_path / "first.csv", first_rows))
    assert (first.lines_read, first.lines_loaded) == (3, 3)
    later = load(engine, write_csv(tmp_path / "later.csv", later_rows))
    extra = Counter(map(tuple, later_rows)) - Counter(map(tuple, first_rows))
    assert (later.lines_read, later.lines_loaded, later.lines_already_present) == (
        len(later_rows),
        sum(extra.values()),
        len(later_rows) - sum(extra.values()),
    )
    in_warehouse = Counter(row[1] for row in loaded_rows(engine))
    assert in_warehouse == Counter({"85123A": 3, "71053": 1, "22633": 1})
    # fewer copies later add nothing
    fewer = load(engine, write_csv(tmp_path / "fewer.csv", [x, z]))
    assert (fewer.lines_loaded, fewer.lines_already_present) == (0, 2)
    assert_accounting(engine)


def test_generated_identical_lines_are_all_kept(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "dups.csv"
    write_sample(path, 600, seed=5)
    _, records = csv_records(path)
    copies = Counter(map(tuple, records))
    repeated = sum(n - 1 for n in copies.values() if n > 1)
    assert repeated  # the generator plants identical lines (the same item scanned twice)
    result = load(engine, path)
    assert (result.lines_read, result.lines_loaded, result.lines_already_present) == (
        len(records),
        len(records),
        0,
    )
    in_db = Counter(loaded_rows(engine))
    assert in_db == Counter(frame_rows(sample_frame(600, 5)))
    assert sum(n - 1 for n in in_db.values() if n > 1) == repeated


def test_xlsx_overlapping_sheets_load_the_overlap_once(engine: Engine, tmp_path: Path) -> None:
    from openpyxl import Workbook

    frame = sample_frame(900, seed=13, days=40)
    day = frame["invoice_date"].dt.normalize()
    days = sorted(day.unique())
    last_of_first, first_of_second = days[2 * len(days) // 3], days[len(days) // 3]
    sheet1 = frame[day <= last_of_first]
    sheet2 = frame[day >= first_of_second]  # the UCI workbook's sheets overlap the same way, on whole days
    overlap = frame[(day >= first_of_second) & (day <= last_of_first)]
    assert overlap.duplicated().any()  # identical lines inside the overlap: both copies load, once

    workbook = Workbook(write_only=True)
    for title, part in (("Year 2009-2010", sheet1), ("Year 2010-2011", sheet2)):
        sheet = workbook.create_sheet(title)
        sheet.append(UCI2_HEADER)
        for r in frame_rows(part):
            # numeric invoices are numbers in the UCI workbook, customer ids are floats
            invoice = int(r[0]) if r[0].isdigit() else r[0]
            sheet.append(
                [invoice, r[1], r[2], r[3], r[4], float(r[5]), None if r[6] is None else float(r[6]), r[7]]
            )
    path = tmp_path / "online_retail_II.xlsx"
    workbook.save(path)

    result = load(engine, path)
    assert (result.status, result.exports) == ("loaded", 2)
    assert (result.lines_read, result.lines_loaded, result.lines_already_present) == (
        len(sheet1) + len(sheet2),
        len(frame),
        len(overlap),
    )
    assert Counter(loaded_rows(engine)) == Counter(frame_rows(frame))
    with engine.connect() as conn:
        by_sheet = dict(
            conn.execute(
                text("SELECT source_export, count(*) FROM raw.transactions GROUP BY source_export")
            ).all()
        )
    assert by_sheet == {"Year 2009-2010": len(sheet1), "Year 2010-2011": len(frame) - len(sheet1)}
    # a CSV export of the second sheet afterwards is entirely present already
    csv_path = write_lines(
        tmp_path / "sheet2.csv",
        list(CANONICAL_COLUMNS),
        [["" if v is None else str(v) for v in r] for r in frame_rows(sheet2)],
    )
    again = load(engine, csv_path)
    assert (again.lines_loaded, again.lines_already_present) == (0, len(sheet2))
    assert_accounting(engine)


# --- bad input -------------------------------------------------------------------------------------------

BAD_LINES = [
    # (line, column named in the reason, text the reason must contain)
    (line(invoice="999001", quantity="12x"), "quantity", "12x"),
    (line(invoice="999002", quantity="1.5"), "quantity", "1.5"),
    (line(invoice="999003", date="2010-02-30 10:00:00"), "invoice_date", "2010-02-30"),
    (line(invoice="999004", date="2010-02-29 10:00"), "invoice_date", "2010-02-29"),
    (line(invoice="999005", date="13/1/2010 8:26"), "invoice_date", "13/1/2010"),
    (line(invoice="999006", price="abc"), "unit_price", "abc"),
    (line(invoice="999007", customer="13085.5"), "customer_id", "13085.5"),
    (line(invoice="999008", customer="C13085"), "customer_id", "C13085"),
    ([*line(invoice="999009"), "surplus"], None, "fields"),
    (line(invoice=""), "invoice_no", "missing"),
    (line(invoice="999011", country=""), "country", "missing"),
]


def good_records(rows: int, seed: int, tmp_path: Path) -> tuple[list[str], list[list[str]]]:
    path = tmp_path / f"good_{rows}_{seed}.csv"
    write_sample(path, rows, seed)
    return csv_records(path)


def test_bad_values_are_rejected_line_by_line(engine: Engine, tmp_path: Path) -> None:
    header, records = good_records(300, 17, tmp_path)
    lines: list[list[str]] = list(records)
    rng = random.Random(17)
    positions = sorted(rng.sample(range(len(records)), len(BAD_LINES)))
    for position, (bad, _, _) in zip(positions, BAD_LINES, strict=True):
        lines.insert(position, bad)
    row_of = {tuple(bad): lines.index(bad) + 2 for bad, _, _ in BAD_LINES}  # +1 header, +1 one-based
    path = write_lines(tmp_path / "mixed.csv", header, lines)

    result = load(engine, path)
    assert result.status == "loaded"
    assert (result.lines_read, result.lines_loaded, result.lines_rejected) == (
        len(lines),
        len(records),
        len(BAD_LINES),
    )
    kept = rejected(engine, result.load_id)
    assert len(kept) == len(BAD_LINES)
    by_row = {r["source_row"]: r for r in kept}
    for bad, column, needle in BAD_LINES:
        r = by_row[row_of[tuple(bad)]]
        assert r["file_name"] == path.name and r["source_export"] == path.name
        assert r["column_name"] == column, r
        assert needle in r["reason"], r
        if column:
            assert r["reason"].startswith(f"{column}:"), r
        assert bad[1] in r["raw_text"] and (bad[0] in r["raw_text"])
    bad_invoices = {bad[0] for bad, _, _ in BAD_LINES}
    assert not any(row[0] in bad_invoices for row in loaded_rows(engine))
    assert "raw.rejected_lines" in result.error
    assert_accounting(engine)


def test_a_line_with_several_problems_lists_them_all(engine: Engine, tmp_path: Path) -> None:
    rows = [line(invoice=str(536365 + i)) for i in range(20)]
    rows.append(line(invoice="536999", quantity="x", price="y", date="yesterday"))
    result = load(engine, write_csv(tmp_path / "multi.csv", rows))
    [r] = rejected(engine, result.load_id)
    assert r["source_row"] == len(rows) + 1
    for column in ("quantity", "invoice_date", "unit_price"):
        assert f"{column}:" in r["reason"]


def test_above_max_rejected_share_the_whole_file_is_rejected(engine: Engine, tmp_path: Path) -> None:
    good = [line(invoice=str(536365 + i)) for i in range(30)]
    bad = [line(invoice=str(537000 + i), quantity="lots") for i in range(10)]
    path = write_csv(tmp_path / "mostly_bad.csv", good + bad)
    share = len(bad) / (len(good) + len(bad))

    result = load(engine, path, max_rejected_share=share - 0.01)
    assert result.status == "rejected"
    assert (result.lines_read, result.lines_loaded, result.lines_already_present, result.lines_rejected) == (
        40,
        0,
        0,
        40,
    )
    assert count(engine, "raw.transactions") == 0
    kept = rejected(engine, result.load_id)
    # every line is kept (issue 13): the invalid ones with their reason, the valid ones with the file's
    assert [r["source_row"] for r in kept] == list(range(2, len(good) + len(bad) + 2))
    assert all(r["column_name"] == "quantity" for r in kept[len(good) :])
    assert all("file rejected as a whole: 10 of its lines" in r["reason"] for r in kept[: len(good)])
    assert f"row {len(good) + 2}" in result.error and "quantity" in result.error
    assert_accounting(engine)

    # at the limit exactly the file loads (only "above" rejects it), and a retry of a rejected file is allowed
    result = load(engine, path, max_rejected_share=share)
    assert (result.status, result.lines_loaded, result.lines_rejected) == ("loaded", len(good), len(bad))
    assert count(engine, "raw.transactions") == len(good)
    assert_accounting(engine)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.csv", b"", "empty"),
        ("header_only.csv", (",".join(UCI2_HEADER) + "\r\n").encode(), "no lines"),
        ("notes.txt", b"Invoice,StockCode\n", "unsupported file type"),
        ("data.json", b'[{"Invoice": "489434"}]', "unsupported file type"),
        (
            "no_country.csv",
            b"Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID\n"
            b"489434,85048,X,12,2009-12-01 07:45:00,6.95,13085\n",
            "missing columns country",
        ),
    ],
)
def test_unreadable_files_are_rejected_with_a_reason(
    engine: Engine, tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = load(engine, path)
    assert result.status == "rejected" and not result.ok
    assert reason in result.error
    [row] = ledger(engine)
    assert (row["file_name"], row["status"], row["sha256"], row["size_bytes"]) == (
        name,
        "rejected",
        result.sha256,
        len(content),
    )
    assert reason in row["error"]
    assert count(engine, "raw.transactions") == 0
    assert_accounting(engine)


def test_nul_bytes_reject_the_line_not_the_load(engine: Engine, tmp_path: Path) -> None:
    rows = [line(invoice=str(536365 + i)) for i in range(20)]
    path = write_csv(tmp_path / "nul.csv", rows)
    with open(path, "ab") as stream:
        stream.write(b"536999,85048,BROKEN\x00\x00DESCRIPTION,1,2010-12-01 08:26:00,2.1,13085,France\r\n")
    result = load(engine, path)
    assert (result.status, result.lines_loaded, result.lines_rejected) == ("loaded", 20, 1)
    [r] = rejected(engine, result.load_id)
    assert r["source_row"] == 22 and "NUL" in r["reason"] and "BROKEN" in r["raw_text"]
