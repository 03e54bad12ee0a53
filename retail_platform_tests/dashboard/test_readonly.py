"""The dashboard reads as read-only roles: retail_reader sees the marts (not raw or ops), retail_monitor only
the monitoring views, every read is a read-only transaction, and a dedicated LOGIN granted both roles runs
every page."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from sqlalchemy.engine import make_url

from retail_platform.dashboard.readonly import MONITOR, READER, read_only_frame, reader_engine
from retail_platform_tests.dashboard.conftest import BuiltWarehouse


@pytest.mark.parametrize(
    ("role", "table"),
    [(READER, "raw.file_loads"), (READER, "ops.alerts"), (READER, "monitoring.file_loads"),
     (MONITOR, "raw.file_loads"), (MONITOR, "ops.alerts"), (MONITOR, "marts.monthly_kpis")],
)  # fmt: skip
def test_each_role_reads_only_its_own_schemas(built: BuiltWarehouse, role: str, table: str):
    with pytest.raises(Exception, match="permission denied"):
        read_only_frame(built.url, f"SELECT * FROM {table} LIMIT 1", role)


def test_each_role_reads_what_its_pages_need(built: BuiltWarehouse):
    assert not read_only_frame(built.url, "SELECT * FROM marts.daily_country_sales LIMIT 1", READER).empty
    assert not read_only_frame(built.url, "SELECT * FROM monitoring.file_loads", MONITOR).empty


def test_reads_cannot_write_and_other_roles_are_refused(built: BuiltWarehouse):
    with pytest.raises(Exception, match="read-only transaction"):
        read_only_frame(built.url, "CREATE TABLE marts.scratch (x int)", READER)
    with pytest.raises(ValueError, match="not 'postgres'"):
        read_only_frame(built.url, "SELECT 1", "postgres")


@pytest.fixture
def dashboard_login(built: BuiltWarehouse):
    """A LOGIN role granted retail_reader and retail_monitor (as a deployment would create), dropped after."""
    name = f"rp_dashboard_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(built.url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {name} LOGIN IN ROLE {READER}, {MONITOR}")
    url = make_url(built.url).set(username=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        reader_engine(url).dispose()
        with psycopg.connect(built.url, autocommit=True) as conn:
            conn.execute(f"DROP ROLE {name}")


def test_a_dedicated_read_only_login_runs_every_page(app, monkeypatch, dashboard_login: str):
    monkeypatch.setenv("RETAIL_DASHBOARD_URL", dashboard_login)
    for page in (None, "trends", "customers", "products", "health"):
        test = app(page)
        assert test.metric or test.dataframe, page
