"""The ledger's ``months_touched`` (migration 012): the months of the lines each load inserted, on every path
(binary COPY, typed stage, checked stage, bulk), empty when nothing was inserted; always equal to the months of
the load's stored lines."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from retail_platform.ingestion import blocks, csv_files, exports
from retail_platform.ingestion.loader import LoadResult, load_file
from retail_platform_tests.helpers import line, write_csv


def load(engine: Engine, path: Path, **kwargs: object) -> LoadResult:
    return load_file(engine, path, progress=lambda _message: None, **kwargs)


def _recorded(engine: Engine, load_id: int) -> list[date]:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT months_touched FROM raw.file_loads WHERE load_id = :id"), {"id": load_id}
        ).scalar_one()


def _stored(engine: Engine, load_id: int) -> list[date]:
    """The ground truth: the months among the load's stored lines."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT DISTINCT date_trunc('month', invoice_date)::date FROM raw.transactions "
                    "WHERE load_id = :id ORDER BY 1"
                ),
                {"id": load_id},
            ).scalars()
        )


def test_months_of_the_inserted_lines_on_each_path(engine: Engine, tmp_path: Path) -> None:
    first = load(
        engine,
        write_csv(
            tmp_path / "first.csv",
            [line(invoice="1", date="2009-12-01 08:00:00"), line(invoice="2", date="2010-01-05 09:00:00")],
        ),
    )
    assert _recorded(engine, first.load_id) == [date(2009, 12, 1), date(2010, 1, 1)]
    assert first.months_touched == ["2009-12-01", "2010-01-01"]

    # An overlapping export (typed stage): its December line is present, only March is new.
    overlap = load(
        engine,
        write_csv(
            tmp_path / "overlap.csv",
            [line(invoice="1", date="2009-12-01 08:00:00"), line(invoice="3", date="2010-03-02 10:00:00")],
        ),
    )
    assert (overlap.lines_loaded, overlap.lines_already_present) == (1, 1)
    assert _recorded(engine, overlap.load_id) == [date(2010, 3, 1)] == _stored(engine, overlap.load_id)

    # A spelling the loader leaves to the SQL checks (checked stage), in a new month.
    checked = load(engine, write_csv(tmp_path / "us_dates.csv", [line(invoice="4", date="4/7/2010 8:26")]))
    assert _recorded(engine, checked.load_id) == [date(2010, 4, 1)]

    # Nothing inserted: a renamed copy, a file whose lines are all present, a rejected file.
    (tmp_path / "copy.csv").write_bytes((tmp_path / "first.csv").read_bytes())
    assert _recorded(engine, load(engine, tmp_path / "copy.csv").load_id) == []
    present = load(
        engine, write_csv(tmp_path / "present.csv", [line(invoice="2", date="2010-01-05 09:00:00")])
    )
    assert present.lines_already_present == 1 and _recorded(engine, present.load_id) == []
    bad = load(
        engine,
        write_csv(
            tmp_path / "bad.csv",
            [line(invoice="5", date="2010-05-01 08:00:00"), line(invoice="6", quantity="x")],
        ),
    )
    assert bad.status == "rejected" and _recorded(engine, bad.load_id) == []


@pytest.mark.parametrize("seed", [3, 11])
def test_months_touched_equal_the_months_of_the_stored_lines(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """Random overlapping exports in small blocks (every path in one file): the ledger's months are exactly
    the months of what each load stored."""
    monkeypatch.setattr(csv_files, "CSV_BLOCK_BYTES", 2048)
    monkeypatch.setattr(exports, "BATCH_ROWS", 17)
    monkeypatch.setattr(blocks, "BULK_LOAD_MIN_BYTES", 0)  # the first file: bulk mode
    rng = random.Random(seed)
    pool = [
        line(
            invoice=str(500000 + i // 3),
            quantity=rng.randint(1, 5),
            date=f"20{rng.choice(['09-12', '10-01', '10-02', '10-06', '11-11'])}-0{rng.randint(1, 9)} 10:00:00",
        )
        for i in range(120)
    ]
    for index in range(6):
        rows = rng.sample(pool, rng.randint(5, 40))
        result = load(engine, write_csv(tmp_path / f"part_{index}.csv", rows))
        assert _recorded(engine, result.load_id) == _stored(engine, result.load_id), index
