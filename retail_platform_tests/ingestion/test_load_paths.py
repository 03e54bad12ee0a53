"""The loader's paths give one result (SPEC §3): the Python fast path (typing, COPY), the typed and checked SQL
stages (counting identical copies), bulk mode into an empty table, and the CSV reader's Arrow and csv-module
halves.

Small blocks (monkeypatched) make small files span many blocks, so that identical lines, overlaps and bad
lines fall into different blocks, as they do in files of millions of lines."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from retail_platform.ingestion import blocks, csv_files, exports, readers, typed_blocks
from retail_platform.ingestion.columns import map_header
from retail_platform.ingestion.loader import LoadResult, load_file
from retail_platform.ingestion.readers import read_exports
from retail_platform.settings import PlausibilitySettings
from retail_platform_tests import helpers
from retail_platform_tests.helpers import line, write_csv
from retail_platform_tests.ingestion.support import (
    assert_accounting,
    count,
    csv_records,
    frame_rows,
    loaded_rows,
    rejected,
    sample_frame,
    wipe,
    write_lines,
)

# These tests probe the typing paths at the edges of PostgreSQL's types (year 1000, 2038, 15-digit prices),
# which the load's plausibility bounds (issue 13) would reject: they load with bounds wide open.
WIDE_OPEN = PlausibilitySettings(
    first_date="1000-01-01", max_abs_unit_price=1e16, max_abs_quantity=2**31, max_days_ahead=365_000
)


def load(engine: Engine, path: Path, **kwargs: object) -> LoadResult:
    kwargs.setdefault("plausibility", WIDE_OPEN)
    return load_file(engine, path, progress=lambda _message: None, **kwargs)


def stored_lines(engine: Engine) -> list[tuple]:
    """Every loaded line in file order: its position in the load (line_id less load_id * 2^32), source row,
    typed values and the text PostgreSQL stores for its price."""
    with engine.connect() as conn:
        return [
            tuple(row)
            for row in conn.execute(
                text(
                    "SELECT line_id - load_id * 4294967296, source_row, invoice_no, stock_code, description, quantity, invoice_date, unit_price,"
                    " unit_price::text, customer_id, country FROM raw.transactions"
                    " ORDER BY load_id, source_export, source_row"
                )
            )
        ]


def stored_copies(engine: Engine) -> Counter:
    """How many copies of each content the warehouse holds."""
    return Counter(loaded_rows(engine))


def typed(header: list[str], records: Counter) -> Counter:
    """CSV records of the generator (text) as canonical Python values, with their counts."""
    positions = map_header(header)
    result: Counter = Counter()
    for record, copies in records.items():
        invoice, stock, description, quantity, date, price, customer, country = (record[p] for p in positions)
        key = (
            invoice,
            stock,
            description or None,
            int(quantity),
            datetime.fromisoformat(date),
            Decimal(price),
            int(float(customer)) if customer else None,
            country,
        )
        result[key] += copies
    return result


def most_copies_per_export(*exports: list[list[str]]) -> Counter:
    """SPEC §3 over CSV records: each content is stored as often as the one export with the most copies has it."""
    result: Counter = Counter()
    for records in exports:
        result |= Counter(map(tuple, records))
    return result


def index_definitions(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return helpers.index_definitions(conn, "raw.transaction_lines")


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_files, "CSV_BLOCK_BYTES", 2048)
    monkeypatch.setattr(exports, "BATCH_ROWS", 17)


@pytest.fixture
def paths_taken(monkeypatch: pytest.MonkeyPatch) -> Counter:
    """How many blocks took each path of the loader."""
    taken: Counter = Counter()
    for name in ("_copy", "_overlaps", "_typed_stage", "_checked_stage", "_start_bulk"):
        original = getattr(blocks.BlockLoader, name)

        def spy(self, *args, _original=original, _name=name, **kwargs):
            taken[_name] += 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(blocks.BlockLoader, name, spy)
    return taken


# Values the fast path must type exactly as the SQL checks do (CSV quoting, trim_scale, canonical ints)
TRICKY = [
    line(invoice="536365", description='RECORD FRAME 7" SINGLE SIZE ', price="2.10", customer="13085.0"),
    line(invoice="536366", description="BACK\\SLASH (AND) PARENS, COMMA", price="0.001", customer="007"),
    line(invoice="536367", description=" LEADING SPACE", price="18.0", quantity="-0"),
    line(invoice="536368", description="", price="-0.0", customer=""),
    line(invoice="536369", description="CAFÉ CRÈME\tTAB", price="007.50", quantity="012"),
    line(invoice="C536370", stock="POST", description="a,b", price="1e-05", quantity="-3"),  # SQL path: 1e-05
    line(invoice="536371", stock="85123A", description="WHITE HANGING HEART", price="2.55"),
    line(invoice="536371", stock="85123A", description="WHITE HANGING HEART", price="2.550"),  # same line
    line(invoice="A536372", stock="B", description="Adjust bad debt", price="-11062.06", customer=""),
    line(invoice="536373", description="x\x0bvertical tab", date="2010-12-31 23:59:59"),
    # numbers as PostgreSQL's binary format holds them: base-10000 digits, weight, sign, display scale
    line(invoice="536374", price="10000", quantity="-999999999", customer="999999999"),
    line(invoice="536375", price="1234.56789", quantity="80995", date="1999-12-31 23:59:59"),
    line(invoice="536376", price="0.0001", date="2000-01-01 00:00:00"),
    line(invoice="536377", price="-0.5", date="2038-01-19 03:14:08"),
    line(invoice="536378", price="123456789012345.123456789012", date="1000-01-01 00:00:00"),
]


def test_python_typing_and_sql_typing_give_the_same_lines(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = [row for row in TRICKY if row[5] != "1e-05"]
    path = write_csv(tmp_path / "tricky.csv", plain)
    fast = load(engine, path)
    assert (fast.status, fast.lines_loaded, fast.lines_rejected) == ("loaded", len(plain), 0), fast.error
    by_python = stored_lines(engine)

    wipe(engine)
    typed_in_sql = []
    monkeypatch.setattr(typed_blocks, "type_block", lambda *_args: typed_in_sql.append(1))
    slow = load(engine, write_csv(tmp_path / "tricky_again.csv", plain))
    assert typed_in_sql and (slow.lines_loaded, slow.lines_rejected) == (len(plain), 0)
    assert stored_lines(engine) == by_python  # same values, same stored text (2.10 -> 2.1, 007 -> 7)
    # the two spellings of one line (2.55 and 2.550) are two copies of the same content
    copies = [row[2:] for row in by_python if row[2] == "536371"]
    assert len(copies) == 2 and copies[0] == copies[1]


def test_a_block_with_an_unusual_spelling_goes_through_sql_and_identities_still_match(
    engine: Engine, tmp_path: Path
) -> None:
    first = load(engine, write_csv(tmp_path / "all.csv", TRICKY))
    assert (first.lines_loaded, first.lines_rejected) == (len(TRICKY), 0), first.error
    # the same lines spelled plainly (fast path) are all present already
    again = load(
        engine,
        write_csv(
            tmp_path / "plain.csv", [r if r[5] != "1e-05" else [*r[:5], "0.00001", *r[6:]] for r in TRICKY]
        ),
    )
    assert (again.lines_loaded, again.lines_already_present) == (0, len(TRICKY))
    assert_accounting(engine)


def shuffled_sample(tmp_path: Path, rows: int, seed: int) -> tuple[list[str], list[list[str]]]:
    """A sample whose lines are shuffled: an invoice's lines (and identical lines) end up in many blocks."""
    header, records = csv_records(_sample(tmp_path, rows, seed))
    random.Random(seed).shuffle(records)
    return header, records


def _sample(tmp_path: Path, rows: int, seed: int) -> Path:
    from retail_platform.sample_data import write_sample

    path = tmp_path / f"sample_{rows}_{seed}.csv"
    write_sample(path, rows, seed)
    return path


@pytest.mark.usefixtures("small_blocks")
def test_identical_lines_in_different_blocks_are_numbered_across_blocks(
    engine: Engine, tmp_path: Path, paths_taken: Counter
) -> None:
    header, records = shuffled_sample(tmp_path, 1200, 5)
    copies = Counter(map(tuple, records))
    assert any(n > 1 for n in copies.values())
    path = write_lines(tmp_path / "shuffled.csv", header, records)
    result = load(engine, path)
    assert (result.status, result.lines_read, result.lines_loaded) == ("loaded", len(records), len(records))
    assert stored_copies(engine) == typed(header, most_copies_per_export(records))
    # the first block was COPYed; blocks with an invoice seen in an earlier block went through the typed stage
    assert paths_taken["_copy"] >= 1 and paths_taken["_typed_stage"] > 0

    # an overlapping export in another order: the overlap, identical lines included, loads once
    overlap = records[: len(records) // 2]
    extra = [line(invoice=str(700000 + i)) for i in range(40)]
    mixed = overlap + extra
    random.Random(9).shuffle(mixed)
    second = load(engine, write_lines(tmp_path / "second.csv", header, mixed))
    expected = most_copies_per_export(records, mixed)
    new = sum(expected.values()) - len(records)
    assert (second.lines_loaded, second.lines_already_present) == (new, len(mixed) - new)
    assert stored_copies(engine) == typed(header, expected)
    assert_accounting(engine)


@pytest.mark.usefixtures("small_blocks")
def test_bad_lines_in_some_blocks_are_rejected_and_the_rest_loads(engine: Engine, tmp_path: Path) -> None:
    header, records = shuffled_sample(tmp_path, 600, 8)
    lines = list(records)
    bad_rows = {}
    for position in sorted(random.Random(3).sample(range(len(lines)), 6)):
        lines.insert(position, line(invoice=f"99{position:04d}", quantity="many"))
    for index, row in enumerate(lines):
        if row[3] == "many":
            bad_rows[index + 2] = row[0]
    result = load(engine, write_lines(tmp_path / "with_bad.csv", header, lines))
    assert (result.lines_read, result.lines_loaded, result.lines_rejected) == (len(lines), len(records), 6)
    assert {r["source_row"]: r["raw_text"].split(",")[0] for r in rejected(engine)} == bad_rows
    assert Counter(loaded_rows(engine)) == Counter(frame_rows(sample_frame(600, 8)))
    assert_accounting(engine)


@pytest.mark.usefixtures("small_blocks")
def test_bulk_mode_into_an_empty_table_and_its_handover_to_block_by_block(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, paths_taken: Counter
) -> None:
    monkeypatch.setattr(blocks, "BULK_LOAD_MIN_BYTES", 0)
    # about 140 lines a block: every invoice fits in a block
    monkeypatch.setattr(csv_files, "CSV_BLOCK_BYTES", 12_000)
    before = index_definitions(engine)
    messages: list[str] = []
    # grouped by invoice: every block is COPYed (frozen), none compared with the warehouse
    path = _sample(tmp_path, 800, 4)
    result = load_file(engine, path, progress=messages.append)
    assert (result.status, result.lines_loaded) == ("loaded", 800)
    assert any("bulk load" in message for message in messages)
    assert paths_taken["_copy"] >= 5 and paths_taken["_overlaps"] == paths_taken["_typed_stage"] == 0
    assert index_definitions(engine) == before
    header, _ = csv_records(path)
    assert Counter(loaded_rows(engine)) == Counter(frame_rows(sample_frame(800, 4)))

    # shuffled, into an empty table again: blocks with an invoice seen before go through the typed stage
    wipe(engine)
    _, shuffled = shuffled_sample(tmp_path, 1000, 6)
    paths_taken.clear()
    result = load(engine, write_lines(tmp_path / "shuffled.csv", header, shuffled))
    assert (result.lines_read, result.lines_loaded) == (len(shuffled), len(shuffled))
    assert paths_taken["_start_bulk"] == 1 and paths_taken["_copy"] > 0 and paths_taken["_typed_stage"] > 0
    assert stored_copies(engine) == typed(header, most_copies_per_export(shuffled))
    # the same lines again, other bytes: all present, every block compared
    paths_taken.clear()
    again = load(engine, write_lines(tmp_path / "again.csv", header, shuffled[::-1]))
    assert (again.lines_loaded, again.lines_already_present) == (0, len(shuffled))
    assert paths_taken["_start_bulk"] == 0 and paths_taken["_copy"] == 0

    # a rejected file in bulk mode leaves no line and the indexes in place
    wipe(engine)
    bad = [line(invoice=str(536365 + i), quantity="x" if i % 3 == 0 else 1) for i in range(90)]
    result = load(engine, write_csv(tmp_path / "mostly_bad.csv", bad))
    assert (result.status, result.lines_loaded, result.lines_rejected) == ("rejected", 0, 90)
    # every line kept (issue 13): the 30 invalid ones, and the 60 valid ones with the file's reason
    assert count(engine, "raw.transactions") == 0 and len(rejected(engine)) == 90
    assert index_definitions(engine) == before
    assert_accounting(engine)


@pytest.mark.usefixtures("small_blocks")
def test_csv_blocks_that_are_not_plain_hand_over_to_the_csv_module(tmp_path: Path) -> None:
    rows = [line(invoice=str(536365 + i), description=f"ITEM {i}") for i in range(200)]
    rows[150] = line(invoice="536515", description="TWO\nLINES")  # a line break inside quotes, late
    path = write_csv(tmp_path / "late_quirk.csv", rows)
    with open(path, "ab") as stream:
        stream.write(b"\r\n536999,85048,AFTER BLANK,1,2010-12-01 08:26:00,2.1,13085,France\r\n")
    [export] = read_exports(path)
    by_rows = [tuple(row[1:]) for row in export.rows]
    [export] = read_exports(path)
    by_batches = [
        (
            row["source_row"],
            row["structural_error"],
            row["raw_text"],
            *(row[c] for c in readers.CANONICAL_COLUMNS),
        )
        for batch in export.text_batches()
        for row in batch.to_pylist()
    ]
    assert by_batches == by_rows
    assert by_rows[-1][0] == 204  # line numbers count the quoted line break and the blank line


def test_bulk_mode_steps_aside_when_a_reader_holds_the_table(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(blocks, "BULK_LOAD_MIN_BYTES", 0)
    messages: list[str] = []
    with engine.connect() as reader:
        reader.execute(text("SELECT count(*) FROM raw.transactions"))  # an open transaction holds a lock
        result = load_file(engine, _sample(tmp_path, 300, 2), progress=messages.append)
        assert (result.status, result.lines_loaded) == ("loaded", 300)
        assert not any("bulk load" in message for message in messages)
        reader.rollback()
    assert_accounting(engine)
