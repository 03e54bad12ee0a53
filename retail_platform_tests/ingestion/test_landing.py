"""The landing folder (SPEC §3, §6): good files load and go to archive/, bad ones to rejected/ with a report,
a crash leaves nothing behind and the file in landing/, and the real data set loads exactly once."""

from __future__ import annotations

import csv
import gzip
import io
import os
import random
import shutil
import time
import zipfile
import zlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from retail_platform.ingestion import loader
from retail_platform.ingestion.landing import load_landing, ready_files
from retail_platform.ingestion.readers import Export
from retail_platform.sample_data import write_sample
from retail_platform.settings import RetailPaths
from retail_platform_tests.helpers import UCI2_HEADER, line, write_csv
from retail_platform_tests.ingestion.support import assert_accounting, count, csv_records, ledger, rejected


def quiet(_message: str) -> None:
    pass


def land(engine: Engine, paths: RetailPaths, **kwargs: object) -> list[loader.LoadResult]:
    kwargs.setdefault("settle_seconds", 0)
    return load_landing(engine, paths.landing, paths.archive, paths.rejected, progress=quiet, **kwargs)


def set_order(paths: list[Path]) -> None:
    """Give the files increasing modification times, so that the landing folder loads them in this order."""
    base = time.time() - 1000
    for offset, path in enumerate(paths):
        os.utime(path, (base + offset, base + offset))


def names(folder: Path) -> set[str]:
    return {path.name for path in folder.iterdir()}


# --- which files are ready -------------------------------------------------------------------------------


def test_ready_files_oldest_first_skipping_hidden_and_in_progress(paths: RetailPaths) -> None:
    landing = paths.landing
    wanted = [landing / "b.csv", landing / "a.parquet", landing / "c.csv.gz"]
    ignored = [
        landing / ".hidden.csv",
        landing / "upload.csv.part",
        landing / "x.csv.tmp",
        landing / "~$book.xlsx",
        landing / "y.csv.crdownload",
    ]
    for path in wanted + ignored:
        path.write_bytes(b"x")
    (landing / "subfolder").mkdir()
    set_order(wanted)
    assert ready_files(landing) == wanted
    assert ready_files(paths.home / "does-not-exist") == []


# --- a drop with good and bad files ----------------------------------------------------------------------


def corrupt_xlsx(source: Path, target: Path) -> Path:
    """A workbook whose sheet XML is cut short: the zip is fine, the sheet is not."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zout:
        for name in zin.namelist():
            content = zin.read(name)
            if name.startswith("xl/worksheets/"):
                content = content[: len(content) // 2]
            zout.writestr(name, content)
    target.write_bytes(buffer.getvalue())
    return target


def flip(content: bytes, start: int, length: int) -> bytes:
    """``content`` with ``length`` bytes from ``start`` on inverted: a file damaged in transit."""
    damaged = bytearray(content)
    for index in range(start, start + length):
        damaged[index] ^= 0xFF
    return bytes(damaged)


def test_a_drop_of_good_and_bad_files(engine: Engine, paths: RetailPaths, tmp_path: Path) -> None:
    landing = paths.landing
    good = {  # name -> lines, each over its own month so that no line is shared by two files
        "good.csv": write_sample(landing / "good.csv", 300, 31, start="2010-01-01", days=28),
        "good.csv.gz": write_sample(
            landing / "good.csv.gz", 150, 32, spelling="uci1", start="2010-02-01", days=28
        ),
        "good.xlsx": write_sample(
            landing / "good.xlsx", 200, 33, spelling="snake", start="2010-03-01", days=28
        ),
        "good.parquet": write_sample(landing / "good.parquet", 250, 34, start="2010-04-01", days=28),
    }
    write_sample(tmp_path / "source.xlsx", 200, 35)
    write_sample(tmp_path / "source.parquet", 200, 36)
    write_sample(tmp_path / "source.csv.gz", 3000, 37)
    rng = random.Random(5)
    bad = {  # name -> words the reason must contain
        "empty.csv": "empty",
        "header_only.csv": "no lines",
        "garbage.csv": "missing columns",
        "notes.txt": "unsupported file type",
        "data.json": "unsupported file type",
        "truncated.xlsx": "not a readable XLSX",
        "broken_sheet.xlsx": "cannot read",
        "truncated.parquet": "not a readable Parquet",
        "nested.parquet": "not a readable Parquet",
        "garbled.csv.gz": "cannot read",
        "bad_crc.csv.gz": "CRC",
        "no_price.csv": "missing columns unit_price",
        "mostly_bad.csv": "above the 10% limit",
    }
    (landing / "empty.csv").write_bytes(b"")
    write_csv(landing / "header_only.csv", [])
    (landing / "garbage.csv").write_bytes(bytes(rng.randrange(256) for _ in range(20_000)))
    (landing / "notes.txt").write_text("Invoice,StockCode\n", encoding="utf-8")
    (landing / "data.json").write_text('[{"Invoice": "489434"}]', encoding="utf-8")
    xlsx = (tmp_path / "source.xlsx").read_bytes()
    (landing / "truncated.xlsx").write_bytes(xlsx[: len(xlsx) // 2])
    corrupt_xlsx(tmp_path / "source.xlsx", landing / "broken_sheet.xlsx")
    parquet = (tmp_path / "source.parquet").read_bytes()
    (landing / "truncated.parquet").write_bytes(parquet[: len(parquet) // 2])
    nested = pa.table({name: [[1, 2]] if name == "Quantity" else ["x"] for name in UCI2_HEADER})
    pq.write_table(nested, landing / "nested.parquet")
    gz = (tmp_path / "source.csv.gz").read_bytes()
    (landing / "garbled.csv.gz").write_bytes(flip(gz, 1000, 100))  # an invalid deflate stream
    (landing / "bad_crc.csv.gz").write_bytes(flip(gz, len(gz) - 2000, 100))  # inflates, checksum wrong
    with pytest.raises(zlib.error):
        gzip.decompress((landing / "garbled.csv.gz").read_bytes())
    with pytest.raises(gzip.BadGzipFile, match="CRC"):
        gzip.decompress((landing / "bad_crc.csv.gz").read_bytes())
    write_csv(
        landing / "no_price.csv",
        [[*line()[:5], *line()[6:]]],
        header=[h for h in UCI2_HEADER if h != "Price"],
    )
    mostly_bad_rows = [line(invoice=str(600000 + i)) for i in range(8)]
    mostly_bad_rows[5] = line(invoice="600005", quantity="twelve")
    mostly_bad_rows[6] = line(invoice="600006", date="2010-02-30 10:00")
    write_csv(landing / "mostly_bad.csv", mostly_bad_rows)
    set_order(sorted(landing.iterdir(), key=lambda p: p.name))

    results = land(engine, paths)

    by_name = {result.file_name: result for result in results}
    assert set(by_name) == set(good) | set(bad)
    assert names(landing) == set()
    assert names(paths.archive) == set(good)
    assert names(paths.rejected) == set(bad) | {f"{name}.error.txt" for name in bad}
    for name, lines in good.items():
        result = by_name[name]
        assert (result.status, result.lines_read, result.lines_loaded, result.lines_rejected) == (
            "loaded",
            lines,
            lines,
            0,
        ), (name, result.error)
    for name, reason in bad.items():
        result = by_name[name]
        assert result.status == "rejected", name
        assert reason in result.error, (name, result.error)
        report = (paths.rejected / f"{name}.error.txt").read_text(encoding="utf-8")
        assert f"File:     {name}" in report
        assert reason in report, report
        assert "Nothing from this file was loaded" in report
    assert count(engine, "raw.transactions") == sum(good.values())
    assert {row["file_name"]: row["status"] for row in ledger(engine)} == {
        result.file_name: result.status for result in results
    }
    assert_accounting(engine)

    # the report of a file with too many bad lines names the file, the rows and the columns
    report = (paths.rejected / "mostly_bad.csv.error.txt").read_text(encoding="utf-8")
    assert "row 7: quantity: 'twelve' is not an integer" in report
    assert "row 8: invoice_date: '2010-02-30 10:00'" in report
    assert "600005" in report  # the raw line is shown
    kept = rejected(engine, by_name["mostly_bad.csv"].load_id)
    # every line of a wholly rejected file is kept (issue 13, defect 8); the invalid ones name their column
    assert [r["source_row"] for r in kept] == list(range(2, 10))
    invalid = [(r["source_row"], r["column_name"]) for r in kept if r["column_name"] is not None]
    assert invalid == [(7, "quantity"), (8, "invoice_date")]


def test_duplicates_are_archived_without_overwriting(engine: Engine, paths: RetailPaths) -> None:
    source = paths.home / "export.csv"
    lines = write_sample(source, 200, 41)
    shutil.copy(source, paths.landing / "export.csv")
    [first] = land(engine, paths)
    assert (first.status, first.lines_loaded) == ("loaded", lines)

    shutil.copy(source, paths.landing / "export.csv")
    shutil.copy(source, paths.landing / "export_again.csv")
    set_order([paths.landing / "export.csv", paths.landing / "export_again.csv"])
    second, third = land(engine, paths)
    for result in (second, third):
        assert (result.status, result.lines_loaded, result.lines_already_present) == ("duplicate", 0, lines)
    assert names(paths.archive) == {"export.csv", f"{second.load_id}__export.csv", "export_again.csv"}
    assert all((paths.archive / name).read_bytes() == source.read_bytes() for name in names(paths.archive))
    assert count(engine, "raw.transactions") == lines
    assert names(paths.rejected) == set()
    assert_accounting(engine)


# --- atomicity -------------------------------------------------------------------------------------------


def drop_three(paths: RetailPaths) -> dict[str, int]:
    """a.csv, b.csv (with two bad lines) and c.csv, in that order; returns the good lines of each."""
    a = write_sample(paths.landing / "a.csv", 300, 51, start="2010-01-01", days=20)
    write_sample(paths.home / "b_source.csv", 400, 52, start="2010-02-01", days=20)
    header, records = csv_records(paths.home / "b_source.csv")
    records[10][3] = "ten"
    records[250][5] = "free"
    with open(paths.landing / "b.csv", "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(records)
    c = write_sample(paths.landing / "c.csv", 200, 53, start="2010-03-01", days=20)
    set_order([paths.landing / name for name in ("a.csv", "b.csv", "c.csv")])
    return {"a.csv": a, "b.csv": len(records) - 2, "c.csv": c}


def assert_only_a_committed(engine: Engine, paths: RetailPaths, good: dict[str, int]) -> None:
    assert [(row["file_name"], row["status"]) for row in ledger(engine)] == [("a.csv", "loaded")]
    assert count(engine, "raw.transactions") == good["a.csv"]
    assert count(engine, "raw.rejected_lines") == 0
    assert names(paths.landing) == {"b.csv", "c.csv"}  # the crashed file and the ones after it wait
    assert names(paths.archive) == {"a.csv"}
    assert names(paths.rejected) == set()


def retry_loads_everything(engine: Engine, paths: RetailPaths, good: dict[str, int]) -> None:
    results = land(engine, paths)
    assert [(r.file_name, r.status, r.lines_loaded, r.lines_rejected) for r in results] == [
        ("b.csv", "loaded", good["b.csv"], 2),
        ("c.csv", "loaded", good["c.csv"], 0),
    ]
    assert count(engine, "raw.transactions") == sum(good.values())
    assert [r["source_row"] for r in rejected(engine)] == [12, 252]
    assert names(paths.landing) == set()
    assert names(paths.archive) == set(good)
    assert_accounting(engine)


def test_a_reader_crash_mid_file_leaves_nothing_and_a_retry_loads_it(
    engine: Engine, paths: RetailPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = drop_three(paths)
    real_read_exports = loader.read_exports
    staged = []

    def crashing_read_exports(path: Path):
        for export in real_read_exports(path):
            if path.name != "b.csv":
                yield export
                continue

            def rows(inner=export.rows):
                for number, row in enumerate(inner):
                    if number == 300:
                        raise RuntimeError("reader crashed half-way")
                    staged.append(row)
                    yield row

            yield Export(export.name, rows())

    monkeypatch.setattr(loader, "read_exports", crashing_read_exports)
    with pytest.raises(RuntimeError, match="reader crashed half-way"):
        land(engine, paths)
    assert len(staged) == 300  # the crash did happen in the middle of the file
    assert_only_a_committed(engine, paths, good)

    monkeypatch.setattr(loader, "read_exports", real_read_exports)
    retry_loads_everything(engine, paths, good)


def test_an_insert_failing_mid_statement_leaves_nothing_and_a_retry_loads_it(
    engine: Engine, paths: RetailPaths
) -> None:
    good = drop_three(paths)
    # the warehouse fails on a line of b.csv past row 100, after its rejected lines were written
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE FUNCTION public.boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                " IF NEW.source_row > 100 AND EXISTS (SELECT 1 FROM raw.file_loads AS f"
                "   WHERE f.load_id = NEW.line_id >> 32 AND f.file_name = 'b.csv') THEN"
                "   RAISE EXCEPTION 'simulated disk failure'; END IF;"
                " RETURN NEW; END $$"
            )
        )
        conn.execute(
            text(
                "CREATE TRIGGER boom BEFORE INSERT ON raw.transaction_lines"
                " FOR EACH ROW EXECUTE FUNCTION public.boom()"
            )
        )
    with pytest.raises(DBAPIError, match="simulated disk failure"):
        land(engine, paths)
    assert_only_a_committed(engine, paths, good)

    with engine.begin() as conn:
        conn.execute(text("DROP TRIGGER boom ON raw.transaction_lines"))
    retry_loads_everything(engine, paths, good)


# --- the real data set -----------------------------------------------------------------------------------


def test_real_data_loads_exactly_once(engine: Engine, paths: RetailPaths, real_data: Path) -> None:
    with gzip.open(real_data, "rt", encoding="utf-8", newline="") as stream:
        expected_lines = sum(1 for record in csv.reader(stream) if record) - 1
    assert expected_lines == 525_461  # as the data set's README says
    shutil.copy(real_data, paths.landing / real_data.name)

    started = time.perf_counter()
    [result] = land(engine, paths)
    seconds = time.perf_counter() - started
    print(
        f"\nreal data: {result.lines_read:,} lines read, {result.lines_loaded:,} loaded, "
        f"{result.lines_already_present:,} already present, {result.lines_rejected:,} rejected "
        f"in {seconds:.1f} s"
    )
    assert result.status == "loaded", result.error
    assert result.lines_read == expected_lines
    assert result.lines_rejected == count(engine, "raw.rejected_lines")
    assert result.lines_loaded + result.lines_already_present + result.lines_rejected == expected_lines
    assert result.lines_loaded == count(engine, "raw.transactions")
    assert result.lines_loaded > 0.99 * expected_lines
    assert names(paths.archive) == {real_data.name}

    shutil.copy(real_data, paths.landing / "online_retail_again.csv.gz")
    [again] = land(engine, paths)
    assert (again.status, again.lines_loaded) == ("duplicate", 0)
    assert again.lines_already_present + again.lines_rejected == expected_lines
    assert count(engine, "raw.transactions") == result.lines_loaded
    assert_accounting(engine)
