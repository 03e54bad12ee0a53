"""Migrations applied to a warehouse that already holds data: 009 turns raw.transactions into a view over the
narrow raw.transaction_lines, and every line loaded before keeps its values and sources; 024 drops load_id from
the lines (the load is line_id >> 32), numbering the lines from before 009 again in the same order, in raw and
in clean.order_lines alike."""

from __future__ import annotations

import shutil
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import text

from retail_platform.defs.sql_assets import run_transform
from retail_platform.ingestion.loader import load_file
from retail_platform.warehouse.connection import engine_for
from retail_platform.warehouse.migrations import discover, migrate
from retail_platform_tests.helpers import line, write_csv

# (invoice, stock code, description, quantity, date, price, customer, country)
HEART = ("536365", "85123A", "WHITE HANGING HEART", 6, "2010-12-01 08:26", "2.55", 17850, "UK")
# (file, export, source row, *the line): two identical lines, and a workbook with two sheets
OLD_LINES = [
    ("a.csv", "a.csv", 2, *HEART),
    ("a.csv", "a.csv", 3, *HEART),
    ("a.csv", "a.csv", 4, "C536366", "22633", None, -1, "2010-12-01 08:28", "1.85", None, "France"),
    ("b.xlsx", "Y2009", 2, "489434", "85048", "GLASS BALL", 12, "2009-12-01 07:45", "6.95", 13085, "UK"),
    ("b.xlsx", "Y2010", 2, "536367", "84879", "BIRD", 32, "2010-12-01 08:34", "1.69", 13047, "UK"),
    ("b.xlsx", "Y2010", 5, "536368", "22960", "JAM SET", 6, "2010-12-01 08:34", "4.25", 13047, "UK"),
]


def _migrations_up_to(version: int, folder: Path) -> Path:
    folder.mkdir()
    for migration in discover():
        if migration.version <= version:
            shutil.copy(migration.path, folder / migration.path.name)
    return folder


def test_lines_loaded_before_the_narrow_table_keep_values_sources_and_order(
    database_url: str, tmp_path: Path
) -> None:
    engine = engine_for(database_url)
    migrate(engine, _migrations_up_to(8, tmp_path / "until_008"))
    load_ids = {}
    with engine.begin() as conn:
        for file_name in ("a.csv", "b.xlsx"):
            load_ids[file_name] = conn.execute(
                text(
                    "INSERT INTO raw.file_loads (file_name, sha256, size_bytes, status, started_at)"
                    " VALUES (:name, :name, 1, 'loaded', now()) RETURNING load_id"
                ),
                {"name": file_name},
            ).scalar_one()
        for file_name, export, row, *values in OLD_LINES:
            conn.execute(
                text(
                    "INSERT INTO raw.transactions (invoice_no, stock_code, description, quantity, invoice_date,"
                    " unit_price, customer_id, country, line_hash, occurrence, source_file, source_export,"
                    " source_row, load_id) VALUES (:v0, :v1, :v2, :v3, CAST(:v4 AS timestamp),"
                    " CAST(:v5 AS numeric), :v6, :v7, md5(random()::text)::uuid, :row, :file, :export, :row,"
                    " :load_id)"
                ),
                {
                    **{f"v{i}": value for i, value in enumerate(values)},
                    "file": file_name,
                    "export": export,
                    "row": row,
                    "load_id": load_ids[file_name],
                },
            )
        before = conn.execute(
            text(
                "SELECT line_id, invoice_no, stock_code, description, quantity, invoice_date, unit_price,"
                " customer_id, country, source_file, source_export, source_row, load_id"
                " FROM raw.transactions ORDER BY line_id"
            )
        ).all()
    assert len(before) == len(OLD_LINES)

    migrate(engine, _migrations_up_to(23, tmp_path / "until_023"))
    with engine.begin() as conn:
        run_transform(conn, "clean.order_lines")
    assert [m.version for m in migrate(engine)] == [m.version for m in discover() if m.version > 23]
    with engine.connect() as conn:
        after = conn.execute(
            text(
                "SELECT line_id, invoice_no, stock_code, description, quantity, invoice_date, unit_price,"
                " customer_id, country, source_file, source_export, source_row, load_id"
                " FROM raw.transactions ORDER BY line_id"
            )
        ).all()
        exports = conn.execute(
            text("SELECT load_id, export_no, export_name FROM raw.file_exports ORDER BY load_id, export_no")
        ).all()
        clean_ids = (
            conn.execute(text("SELECT line_id FROM clean.order_lines ORDER BY line_id")).scalars().all()
        )
        kinds = dict(
            conn.execute(
                text(
                    "SELECT c.relname, c.relkind FROM pg_class AS c JOIN pg_namespace AS n"
                    " ON n.oid = c.relnamespace WHERE n.nspname = 'raw'"
                    " AND c.relname IN ('transactions', 'transaction_lines', 'shop_orders')"
                )
            ).all()
        )
    # 024: every value, source and load as before, in the same order; the ids of the lines from before 009
    # (an identity column, below 2^32) are now load id * 2^32 + their rank in their load
    assert [row[1:] for row in after] == [row[1:] for row in before]
    rank: dict[int, int] = {}
    for row in after:
        assert row.line_id == (row.load_id << 32) + rank.setdefault(row.load_id, 0)
        rank[row.load_id] += 1
    assert clean_ids == [row.line_id for row in after]
    assert after[0].invoice_date == datetime(2010, 12, 1, 8, 26) and after[0].unit_price == Decimal("2.55")
    assert [tuple(e) for e in exports] == [
        (load_ids["a.csv"], 0, "a.csv"),
        (load_ids["b.xlsx"], 0, "Y2009"),
        (load_ids["b.xlsx"], 1, "Y2010"),
    ]
    assert kinds == {"transactions": "v", "transaction_lines": "r", "shop_orders": "v"}

    # a load after the migration: its line ids (load id * 2^32 + position) follow the migrated ones, and the
    # lines loaded before count as present
    path = write_csv(
        tmp_path / "later.csv",
        [
            line(*HEART[:4], f"{HEART[4]}:00", HEART[5], str(HEART[6]), HEART[7]),  # present already
            line(invoice="536999", stock="21232"),
        ],
    )
    result = load_file(engine, path, progress=lambda _message: None)
    assert (result.lines_loaded, result.lines_already_present) == (1, 1)
    with engine.connect() as conn:
        new_ids = (
            conn.execute(
                text("SELECT line_id FROM raw.transactions WHERE load_id = :id"), {"id": result.load_id}
            )
            .scalars()
            .all()
        )
    assert new_ids == [(result.load_id << 32) + 1] and new_ids[0] > max(row.line_id for row in after)


def test_lines_loaded_after_the_narrow_table_keep_their_ids_and_loads(
    database_url: str, tmp_path: Path
) -> None:
    """024 on a warehouse loaded since 009 (lines written as the loader of 009-023 wrote them, with load_id):
    nothing is numbered again, every line keeps its id, values and load (now line_id >> 32), and
    clean.order_lines still covers raw line for line."""
    engine = engine_for(database_url)
    migrate(engine, _migrations_up_to(23, tmp_path / "until_023"))
    with engine.begin() as conn:
        for name in ("first.csv", "second.csv"):
            load_id = conn.execute(
                text(
                    "INSERT INTO raw.file_loads (file_name, sha256, size_bytes, status, started_at)"
                    " VALUES (:name, :name, 1, 'loaded', now()) RETURNING load_id"
                ),
                {"name": name},
            ).scalar_one()
            conn.execute(
                text("INSERT INTO raw.file_exports VALUES (:load_id, 0, :name)"),
                {"load_id": load_id, "name": name},
            )
            for position, (_file, _export, row, *values) in enumerate(OLD_LINES[:3]):
                conn.execute(
                    text(
                        "INSERT INTO raw.transaction_lines (line_id, invoice_no, stock_code, description, quantity,"
                        " invoice_date, unit_price, customer_id, country, load_id, export_no, source_row)"
                        " VALUES (:line_id, :v0, :v1, :v2, :v3, CAST(:v4 AS timestamp), CAST(:v5 AS numeric), :v6,"
                        " :v7, :load_id, 0, :row)"
                    ),
                    {
                        **{f"v{i}": value for i, value in enumerate(values)},
                        "line_id": (load_id << 32) + position,
                        "load_id": load_id,
                        "row": row,
                    },
                )
    columns = "line_id, invoice_no, stock_code, invoice_date, source_file, source_export, source_row, load_id"
    with engine.begin() as conn:
        run_transform(conn, "clean.order_lines")
        before = conn.execute(text(f"SELECT {columns} FROM raw.transactions ORDER BY line_id")).all()
    assert [m.version for m in migrate(engine)] == [m.version for m in discover() if m.version > 23]
    with engine.connect() as conn:
        after = conn.execute(text(f"SELECT {columns} FROM raw.transactions ORDER BY line_id")).all()
        clean_ids = (
            conn.execute(text("SELECT line_id FROM clean.order_lines ORDER BY line_id")).scalars().all()
        )
        stored = set(
            conn.execute(
                text(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_schema = 'raw' AND table_name = 'transaction_lines'"
                )
            ).scalars()
        )
    assert "load_id" not in stored
    assert after == before and len(after) == 6
    assert all(row.load_id == row.line_id >> 32 for row in after) and len({row.load_id for row in after}) == 2
    assert clean_ids == [row.line_id for row in after]
