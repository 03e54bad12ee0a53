"""The web application's LOGIN role (retail_platform/warehouse/roles.py): it reads the marts and the web app's
view, writes nothing anywhere (even with its read-only default turned off), and reads neither raw, ops nor
the shop's schema; its password is stored as the SCRAM verifier of the given password only."""

import base64
import hashlib
import hmac
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import errors

from retail_platform.oltp.connection import apply_shop_schema
from retail_platform.warehouse.connection import engine_for, libpq_url, scratch_database
from retail_platform.warehouse.roles import create_webapp_role
from retail_platform_tests.marts import Line, load_raw
from retail_platform_tests.predictions import PREDICTION_TABLES

PASSWORD = "correct horse battery staple"
MART_RELATIONS = [
    *PREDICTION_TABLES,
    "marts.webapp_next_best_actions",
    "marts.rfm_scores",
    "marts.monthly_kpis",
]


@pytest.fixture
def role(server_url: str) -> Iterator[str]:
    name = f"rp_webapp_{uuid.uuid4().hex[:10]}"
    yield name
    with psycopg.connect(libpq_url(server_url), autocommit=True) as conn:
        conn.execute(f'DROP ROLE IF EXISTS "{name}"')


def as_role(url: str, role: str) -> psycopg.Connection:
    return psycopg.connect(libpq_url(url), user=role, password=PASSWORD)


def scram_matches(verifier: str, password: str) -> bool:
    """RFC 5802/7677: the verifier's StoredKey is SHA-256(HMAC(PBKDF2(password, salt, i), 'Client Key'))."""
    scheme, rest = verifier.split("$", 1)
    iterations_salt, keys = rest.split("$")
    iterations, salt = iterations_salt.split(":")
    stored_key = keys.split(":")[0]
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    return (
        scheme == "SCRAM-SHA-256"
        and base64.b64encode(hashlib.sha256(client_key).digest()).decode() == stored_key
    )


def test_reads_the_marts_and_writes_nothing(database_url, engine, role):
    load_raw(engine, [Line("500001")])
    result = create_webapp_role(database_url, role, PASSWORD)
    assert result.created
    with as_role(database_url, role) as conn:
        for relation in MART_RELATIONS:
            conn.execute(f"SELECT * FROM {relation} LIMIT 1").fetchall()
        conn.execute("SELECT count(*) FROM clean.order_lines").fetchone()
        assert conn.execute("SHOW default_transaction_read_only").fetchone()[0] == "on"
        conn.rollback()
        with pytest.raises(errors.ReadOnlySqlTransaction):
            conn.execute("DELETE FROM marts.customer_actions")
        conn.rollback()

        # Without the read-only default, privileges alone still refuse every write.
        conn.autocommit = True
        conn.execute("SET default_transaction_read_only = off")
        writes = [
            "INSERT INTO marts.clv_evaluation_deciles VALUES (1, 1, 0, 0, 0)",
            "UPDATE marts.customer_lifetime_value SET clv_12m = 0",
            "DELETE FROM marts.customer_actions",
            "TRUNCATE marts.product_recommendations",
            "CREATE TABLE marts.scratch (x int)",
            "CREATE TABLE public.scratch (x int)",
            "CREATE VIEW marts.scratch AS SELECT 1 AS x",
            "ALTER TABLE marts.customer_actions ADD COLUMN x int",
            "DROP VIEW marts.webapp_next_best_actions",
            "INSERT INTO raw.file_loads (file_name, sha256, size_bytes, status, started_at) VALUES ('x', 'x', 0, 'loaded', now())",
            "CREATE SCHEMA scratch",
        ]  # fmt: skip
        for statement in writes:
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(statement)
        for relation in (
            "raw.transactions",
            "raw.transaction_lines",
            "raw.file_loads",
            "raw.rejected_lines",
            "ops.alerts",
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(f"SELECT * FROM {relation} LIMIT 1")


def test_cannot_read_the_shop_schema(server_url, database_url, engine, role):
    create_webapp_role(database_url, role, PASSWORD)
    with scratch_database(server_url, "rp_shop") as shop_url:
        apply_shop_schema(engine_for(shop_url))
        with as_role(shop_url, role) as conn:
            conn.autocommit = True
            for relation in ("shop.orders", "shop.order_lines"):
                with pytest.raises(errors.InsufficientPrivilege):
                    conn.execute(f"SELECT * FROM {relation} LIMIT 1")
        engine_for(shop_url).dispose()


def test_password_is_a_verifier_of_the_given_password_and_can_be_changed(database_url, engine, role):
    create_webapp_role(database_url, role, PASSWORD)
    with psycopg.connect(libpq_url(database_url)) as admin:
        first = admin.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (role,)).fetchone()[0]
        assert PASSWORD not in first and scram_matches(first, PASSWORD)
        again = create_webapp_role(database_url, role, PASSWORD + " again")
        assert not again.created
        second = admin.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (role,)).fetchone()[0]
        assert scram_matches(second, PASSWORD + " again") and not scram_matches(second, PASSWORD)
        member = admin.execute(
            "SELECT pg_has_role(%s, 'retail_reader', 'member'), rolcanlogin, rolsuper, rolcreatedb, rolcreaterole"
            " FROM pg_roles WHERE rolname = %s",
            (role, role),
        ).fetchone()
        assert member == (True, True, False, False, False)


def test_refuses_unsafe_names_passwords_and_existing_superusers(database_url, engine):
    for bad in ("postgres", "retail_reader", "pg_monitor", "Web App", "x; DROP TABLE y"):
        with pytest.raises(ValueError):
            create_webapp_role(database_url, bad, PASSWORD)
    with pytest.raises(ValueError, match="RETAIL_WEBAPP_PASSWORD"):
        create_webapp_role(database_url, "rp_webapp_short", "short")
    with psycopg.connect(libpq_url(database_url)) as admin:
        me = admin.execute("SELECT current_user").fetchone()[0]
    with pytest.raises(ValueError, match="superuser"):
        create_webapp_role(database_url, me, PASSWORD)


def test_command_takes_the_password_from_the_environment(
    database_url, engine, role, tmp_path, monkeypatch, capsys
):
    from retail_platform.cli import main

    monkeypatch.setenv("RETAIL_WAREHOUSE_URL", database_url)
    monkeypatch.delenv("RETAIL_WEBAPP_PASSWORD", raising=False)
    assert main(["create-webapp-role", "--home", str(tmp_path / "home"), "--role", role]) == 2
    assert "RETAIL_WEBAPP_PASSWORD" in capsys.readouterr().err
    monkeypatch.setenv("RETAIL_WEBAPP_PASSWORD", PASSWORD)
    assert main(["create-webapp-role", "--home", str(tmp_path / "home"), "--role", role]) == 0
    assert f"Created LOGIN role {role}" in capsys.readouterr().out
    with psycopg.connect(libpq_url(database_url)) as admin:
        verifier = admin.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (role,)).fetchone()[
            0
        ]
    assert scram_matches(verifier, PASSWORD)
    with as_role(database_url, role) as conn:
        conn.execute("SELECT * FROM marts.webapp_next_best_actions LIMIT 1").fetchall()
