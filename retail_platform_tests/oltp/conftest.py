"""A shop database (schema applied) beside each test's warehouse database, on the same server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from retail_platform.oltp.connection import apply_shop_schema
from retail_platform.warehouse.connection import engine_for, scratch_database


@pytest.fixture
def shop_url(server_url: str) -> Iterator[str]:
    """A brand-new shop database with the shop's schema, dropped after the test."""
    with scratch_database(server_url, prefix="rp_shop") as url:
        apply_shop_schema(engine_for(url))
        yield url


@pytest.fixture
def shop(shop_url: str) -> Engine:
    return engine_for(shop_url)
