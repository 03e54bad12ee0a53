"""The dashboard's queries: ``sql/queries/dashboard_<name>.sql``, read-only as a read-only role
(``readonly.py``), cached for a short time.

Which URL: ``RETAIL_DASHBOARD_URL`` (dedicated credentials, e.g. a LOGIN role granted ``retail_reader`` and
``retail_monitor``), else ``RETAIL_WAREHOUSE_URL``, else the embedded server under ``RETAIL_HOME``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from retail_platform.dashboard.readonly import MONITOR, READER, read_only_frame
from retail_platform.settings import DASHBOARD_URL, load_settings
from retail_platform.warehouse.connection import libpq_url, resolve_warehouse_url
from retail_platform.warehouse.sql_files import read_sql

__all__ = ["MONITOR", "READER", "dashboard_url", "frame", "present_models", "row", "run_query"]

DASHBOARD_URL_ENV = DASHBOARD_URL
# Short enough that a refresh of the marts shows within a minute, long enough that moving between pages and
# back, or a filter and back, costs no query.
CACHE_TTL_SECONDS = 60
Params = tuple[tuple[str, Any], ...]


def dashboard_url() -> str:
    """The URL the dashboard connects with (see the module docstring), from this process's environment
    (read on every call: cheap, and a test may change it between runs)."""
    settings = load_settings()
    if settings.dashboard_url:
        return libpq_url(settings.dashboard_url)
    return resolve_warehouse_url(settings.warehouse_url, settings.paths)


def run_query(url: str, name: str, role: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """``sql/queries/dashboard_<name>.sql`` on ``url`` as ``role``, read-only, uncached."""
    return read_only_frame(url, read_sql(f"queries/dashboard_{name}.sql"), role, params)


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False, max_entries=256)
def _cached(url: str, name: str, role: str, params: Params) -> pd.DataFrame:
    return run_query(url, name, role, dict(params))


def frame(name: str, role: str = READER, **params: Any) -> pd.DataFrame:
    """A named query's rows (cached per URL, role and parameters for ``CACHE_TTL_SECONDS``)."""
    return _cached(dashboard_url(), name, role, tuple(sorted(params.items()))).copy()


def row(name: str, role: str = READER, **params: Any) -> pd.Series | None:
    """The first row of a named query, or None when it returns none."""
    rows = frame(name, role, **params)
    return None if rows.empty else rows.iloc[0]


def present_models() -> set[str]:
    """The customer-intelligence marts that exist (``marts.customer_lifetime_value`` ...), by table name."""
    models = frame("customer_models")
    return set(models.loc[models["present"].astype(bool), "name"])
