"""Warehouse URLs (issue 13, defect 12): only PostgreSQL schemes are accepted, checked before anything
rewrites the scheme; anything else is one line naming the setting, the password masked."""

import pytest

from retail_platform.settings import SettingError, load_settings, masked_url
from retail_platform.warehouse.connection import connection_failure, libpq_url, sqlalchemy_url


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:pw@db:5432/retail",
        "postgres://u:pw@db/retail",
        "postgresql+psycopg://u:pw@db/retail",
        "postgresql+psycopg2://u:pw@db/retail",
        "POSTGRESQL://u:pw@db/retail",
    ],
)
def test_postgresql_spellings_are_accepted(url: str):
    assert libpq_url(url).startswith("postgresql://")
    assert sqlalchemy_url(url).startswith("postgresql+psycopg://")


@pytest.mark.parametrize(
    "url",
    [
        "mysql://bob:hunter2@db:3306/retail",
        "mysql+pymysql://bob:hunter2@db/retail",
        "sqlite:///retail.db",
        "mssql://bob:hunter2@db/retail",
        "bob:hunter2@db/retail",
        "postgresqlx://bob:hunter2@db/retail",
    ],
)
def test_other_schemes_are_one_line_naming_the_setting(url: str):
    for check in (libpq_url, sqlalchemy_url):
        with pytest.raises(SettingError) as raised:
            check(url)
        message = str(raised.value)
        assert message.startswith("RETAIL_WAREHOUSE_URL must be a PostgreSQL URL") and "\n" not in message
        assert "hunter2" not in message
    with pytest.raises(SettingError, match=r"^RETAIL_OLTP_URL must be") as raised:
        load_settings({"RETAIL_OLTP_URL": url})
    assert "hunter2" not in str(raised.value)


def test_an_unparsable_postgresql_url_is_one_line_too():
    with pytest.raises(SettingError, match="RETAIL_DASHBOARD_URL is not a valid URL") as raised:
        libpq_url("postgresql://bob:hunter2@db:port/retail", "RETAIL_DASHBOARD_URL")
    assert "hunter2" not in str(raised.value) and "bob:***@db" in str(raised.value)


def test_masked_url_hides_passwords_with_at_signs():
    assert masked_url("mysql://bob:p@ss@db:3306/x?a=b@c") == "mysql://bob:***@db:3306/x?a=b@c"
    assert masked_url("postgresql://bob@db/x") == "postgresql://bob@db/x"


def test_a_refused_connection_is_recognised_and_a_query_error_is_not(database_url: str):
    import psycopg

    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect("postgresql://bob:hunter2@127.0.0.1:9/x", connect_timeout=3)
    failure = connection_failure(refused.value)
    assert failure is not None and "\n" not in failure and "hunter2" not in failure
    with psycopg.connect(database_url) as conn, pytest.raises(psycopg.Error) as bad_query:
        conn.execute("SELECT * FROM no_such_table")
    assert connection_failure(bad_query.value) is None
