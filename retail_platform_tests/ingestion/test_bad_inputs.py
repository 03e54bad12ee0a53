"""Issue 13, deliverable 4: a catalogue of bad inputs (``bad_inputs.CASES``), all in one drop beside a good
file written by the sample generator, loaded once through the loader entry point of ``retail-platform run``
(``load_landing``, as the ``raw/transactions`` asset calls it) into one warehouse shared by the module.

For each class: the good file loads whole; the bad file has a ledger row with the expected status and a
reason (naming the file, and the row and column where one applies); the run's files table names it; nothing
is lost: lines read = loaded + present + rejected, and every rejected line is in raw.rejected_lines with its
text and reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from retail_platform.ingestion.landing import load_landing
from retail_platform.ingestion.loader import LoadResult
from retail_platform.ingestion.summary import files_markdown
from retail_platform.warehouse.connection import engine_for, scratch_database
from retail_platform.warehouse.migrations import migrate
from retail_platform_tests.ingestion.bad_inputs import CASES, GOOD_FILE, GOOD_LINES, build_drop


class Drop:
    """The loaded drop: each file's ledger row, its rejected lines, and the run's files table."""

    def __init__(self, engine: Engine, files: dict[str, list[Path]], results: list[LoadResult]) -> None:
        self.engine = engine
        self.files = files
        self.results = {result.file_name: result for result in results}
        self.table = files_markdown(results)

    def rejected_lines(self, load_id: int) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT * FROM raw.rejected_lines WHERE load_id = :id ORDER BY source_export, source_row"
                ),
                {"id": load_id},
            )
            return [dict(row) for row in rows.mappings()]

    def stored(self, load_id: int) -> int:
        with self.engine.connect() as conn:
            query = text("SELECT count(*) FROM raw.transactions WHERE load_id = :id")
            return conn.execute(query, {"id": load_id}).scalar_one()


@pytest.fixture(scope="module")
def drop(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Drop]:
    home = tmp_path_factory.mktemp("bad_inputs")
    files = build_drop(home / "landing")
    ordered = [path for paths in files.values() for path in paths]
    with scratch_database(server_url, "rp_bad_inputs") as url:
        engine = engine_for(url)
        migrate(engine)
        messages: list[str] = []
        results = load_landing(
            engine,
            home / "landing",
            home / "archive",
            home / "rejected",
            files=ordered,
            progress=messages.append,
        )
        assert len(results) == len(ordered), messages
        yield Drop(engine, files, results)
        engine.dispose()


def test_the_good_file_beside_them_loads_whole(drop: Drop) -> None:
    good = drop.results[GOOD_FILE]
    assert (good.status, good.lines_read, good.lines_loaded, good.lines_rejected) == (
        "loaded",
        GOOD_LINES,
        GOOD_LINES,
        0,
    )
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input(drop: Drop, case) -> None:
    expect = case.expect
    for path in drop.files[case.name]:
        result = drop.results[path.name]
        where = f"{case.name}: {path.name}: {result.status} {result.error}"
        assert result.status == expect.status, where
        if expect.loaded is not None:
            assert result.lines_loaded == expect.loaded, where
        if expect.rejected is not None:
            assert result.lines_rejected == expect.rejected, where
        if expect.read is not None:
            assert result.lines_read == expect.read, where
        assert result.lines_read >= expect.min_read, where
        assert expect.reason in (result.error or ""), where
        if expect.status == "rejected":
            assert result.error, where
        # nothing is lost: every line read is loaded, present or rejected and kept with its text and reason
        assert result.lines_read == result.lines_loaded + result.lines_already_present + result.lines_rejected
        assert drop.stored(result.load_id) == result.lines_loaded, where
        kept = drop.rejected_lines(result.load_id)
        assert len(kept) == result.lines_rejected, where
        assert all(row["file_name"] == path.name and row["reason"] and row["raw_text"] for row in kept), where
        if expect.rows is not None:
            assert tuple(row["source_row"] for row in kept) == expect.rows, where
        if expect.columns is not None:
            assert tuple(row["column_name"] for row in kept) == expect.columns, where
            for row in kept:  # a line's reason names the column (a line's own starts with it)
                assert row["column_name"] is None or row["column_name"] in row["reason"], row
                if expect.status == "loaded" and row["column_name"]:
                    assert row["reason"].startswith(f"{row['column_name']}: "), row
        assert all(expect.line_reason in row["reason"] for row in kept), where
        if expect.status == "loaded" and expect.rejected:  # the note names the first bad line's row
            assert f"first: row {kept[0]['source_row']}: " in result.error, where
        # the run's files table names the file and says why
        [row] = [r for r in drop.table.splitlines() if r.startswith(f"| {_cell(path.name)} |")]
        assert f" {result.status} " in row and (not expect.reason or expect.reason.split(" |")[0] in row), row


def _cell(name: str) -> str:
    return name.replace("|", "\\|")
