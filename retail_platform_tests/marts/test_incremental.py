"""Incremental refresh = full rebuild, row for row (issue 12, point 5). Random sequences of drops (overlapping
exports, renamed re-drops, identical lines, late lines for old months that move customers' first months,
cancellations, a rejected file, lines of known invoices in other months, countries or for other customers) go
into two warehouses alike; after each drop one rebuilds only the months the ledger says changed (plus their
dependents, as the refresh sensor asks), the other rebuilds everything; every clean table, fact and mart must be
equal, and the global marts and RFM facts, read from the compact facts (migration 018), must equal their
definitions on the lines (``reference``). Bounded (three seeds, seven drops each): about a minute per seed on a
quiet two-core machine."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import Engine, text

from retail_platform.defs.cleaning.assets import order_lines
from retail_platform.defs.marts.kpis import monthly_marts, sales_marts
from retail_platform.defs.marts.rfm import rfm_scores, rfm_segments
from retail_platform.defs.partitions import (
    RANGE_END_TAG,
    RANGE_START_TAG,
    every_month_tags,
    month_range_tags,
)
from retail_platform.defs.resources import RetailPathsResource, WarehouseResource
from retail_platform.ingestion.changes import refresh_months
from retail_platform.ingestion.loader import load_file
from retail_platform.sample_data import write_sample
from retail_platform.warehouse.connection import engine_for, scratch_database
from retail_platform.warehouse.migrations import migrate
from retail_platform_tests.helpers import UCI2_HEADER
from retail_platform_tests.marts import reference

ASSETS = [order_lines, monthly_marts, sales_marts, rfm_scores, rfm_segments]
TABLES = {
    "clean.order_lines": "line_id",
    "clean.customer_months": "customer_id, month",
    "clean.invoice_facts": "month, invoice_no, customer_id, country",
    "clean.product_months": "month, stock_code",
    "clean.product_descriptions": "month, stock_code, description",
    "clean.invoice_amount_counts": "amount",
    "clean.spanning_invoices": "invoice_no, month",
    "marts.monthly_kpis": "month",
    "marts.daily_sales": "day",
    "marts.invoice_amount_stats": "variant",
    "marts.sales_by_country": "country",
    "marts.top_products": "rank",
    "marts.rfm_scores": "customer_id",
    "marts.rfm_segments": "segment",
}
DROPS = 7


def _rebuild(url: str, home: Path, tags: dict[str, str]) -> None:
    result = dg.materialize(
        ASSETS,
        instance=dg.DagsterInstance.ephemeral(),
        resources={
            "warehouse": WarehouseResource(url=url),
            "retail_paths": RetailPathsResource(home=str(home)),
        },
        tags=tags,
    )
    assert result.success


def _tables(engine: Engine) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {
            table: [tuple(row) for row in conn.execute(text(f"SELECT * FROM {table} ORDER BY {order}"))]
            for table, order in TABLES.items()
        }


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="") as stream:
        return list(csv.reader(stream))[1:]


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(UCI2_HEADER)
        writer.writerows(rows)
    return path


def _drops(rng: random.Random, pool: list[list[str]], folder: Path):
    """Each drop: (kind, path). The pool is in date order; exports are slices of it, some overlapping."""
    customers = sorted({row[6] for row in pool if row[6]})
    produced: list[Path] = []
    for index in range(DROPS):
        kind = (
            rng.choice(["slice", "slice", "overlap", "redrop", "late", "cancel", "rejected", "span"])
            if index
            else "slice"
        )
        path = folder / f"drop_{index:02d}_{kind}.csv"
        if kind in ("slice", "overlap"):
            start = rng.randrange(len(pool) - 50)
            rows = pool[start : start + rng.randint(40, 400)]
            if rows and rng.random() < 0.5:
                rows = [*rows, rows[0]]  # an identical line inside one export: both kept
            _write(path, rows)
        elif kind == "redrop" and produced:
            path.write_bytes(rng.choice(produced).read_bytes())  # the same bytes, another name
        elif kind == "late":  # old months, existing customers: some become new earlier
            rows = []
            for n in range(rng.randint(3, 12)):
                row = list(rng.choice(pool))
                row[0], row[4] = f"59{index}{n:03d}", f"2009-12-{rng.randint(1, 28):02d} 09:{n:02d}:00"
                row[6] = rng.choice(customers)
                rows.append(row)
            _write(path, rows)
        elif kind == "cancel":
            rows = []
            for row in rng.sample(pool, 10):
                cancelled = list(row)
                cancelled[0], cancelled[3] = "C" + row[0], str(-abs(int(row[3])))
                rows.append(cancelled)
            _write(path, rows)
        elif kind == "span":  # known invoices: lines in another month, another country, another customer
            rows = []
            for n, row in enumerate(rng.sample(pool, 8)):
                moved = list(row)
                if n % 3 == 0:
                    moved[4] = f"2009-12-{rng.randint(1, 28):02d} 10:{n:02d}:00"
                elif n % 3 == 1:
                    moved[7] = "Spain"
                else:
                    moved[6] = rng.choice(customers)
                moved[3] = str(int(row[3]) + 1)  # not the same line as the original
                rows.append(moved)
            _write(path, rows)
        else:  # rejected as a whole: most lines have a bad quantity
            rows = [list(row) for row in pool[:20]]
            for row in rows[:15]:
                row[3] = "many"
            _write(path, rows)
        produced.append(path)
        yield kind, path


# seeds whose drops cover every kind: 3 (cancel, span, rejected), 4 (overlap, redrop, late, span), 21
@pytest.mark.parametrize("seed", [3, 4, 21])
def test_every_mart_equals_a_full_rebuild_after_each_drop(server_url: str, tmp_path: Path, seed: int):
    rng = random.Random(seed)
    write_sample(tmp_path / "pool.csv", 1_500, seed=seed)
    pool = _rows(tmp_path / "pool.csv")
    (tmp_path / "drops").mkdir()
    with (
        scratch_database(server_url, "rp_incr") as incremental_url,
        scratch_database(server_url, "rp_full") as full_url,
    ):
        incremental, full = engine_for(incremental_url), engine_for(full_url)
        migrate(incremental)
        migrate(full)
        for kind, path in _drops(rng, pool, tmp_path / "drops"):
            first = load_file(incremental, path, progress=lambda _m: None)
            second = load_file(full, path, progress=lambda _m: None)
            assert (first.status, first.lines_loaded) == (second.status, second.lines_loaded)
            months = refresh_months(incremental, [first.load_id])
            if months is not None:
                tags = month_range_tags(*months)
                assert tags[RANGE_START_TAG] <= tags[RANGE_END_TAG]
                _rebuild(incremental_url, tmp_path / "home", tags)
            _rebuild(full_url, tmp_path / "home", every_month_tags())
            assert _tables(incremental) == _tables(full), f"after drop {path.name} ({kind}, months {months})"
            for name, (from_facts, from_lines) in reference.against_lines(incremental).items():
                assert from_facts == from_lines, f"{name} after drop {path.name} ({kind})"
