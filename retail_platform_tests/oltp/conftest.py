"""A shop database (schema applied) beside each test's warehouse database, on the same server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from retail_platform.oltp.connection import apply_shop_schema
from retail_platform.warehouse.connection import engine_for, libpq_url


@pytest.fixture
def shop_url(server_url: str) -> Iterator[str]:
    name = f"rp_shop_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = libpq_url(make_url(server_url).set(database=name).render_as_string(hide_password=False))
    try:
        yield url
    finally:
        engine_for(url).dispose()
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def shop(shop_url: str) -> Engine:
    engine = engine_for(shop_url)
    apply_shop_schema(engine)
    return engine
