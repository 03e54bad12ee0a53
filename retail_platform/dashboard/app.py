"""Entry point of the dashboard (``streamlit run`` this file; ``retail-platform dashboard`` does)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from retail_platform.dashboard import data
from retail_platform.dashboard.data import CACHE_TTL_SECONDS, READER
from retail_platform.warehouse.connection import redact

PAGES = Path(__file__).resolve().parent / "pages"
PAGE_LIST = (
    ("overview.py", "Overview", ":material/dashboard:"),
    ("trends.py", "Trends", ":material/trending_up:"),
    ("customers.py", "Customers", ":material/group:"),
    ("products.py", "Products", ":material/inventory_2:"),
    ("health.py", "Data health", ":material/monitor_heart:"),
)


def main() -> None:
    st.set_page_config(page_title="Retail dashboard", page_icon=":material/storefront:", layout="wide")
    pages = [
        st.Page(PAGES / file, title=title, icon=icon, default=index == 0)
        for index, (file, title, icon) in enumerate(PAGE_LIST)
    ]
    page = st.navigation(pages)
    with st.sidebar:
        st.caption(
            f"Warehouse {redact(data.dashboard_url())}, read as {READER} (read-only). "
            f"Figures are cached for {CACHE_TTL_SECONDS} s."
        )
        if st.button("Refresh figures now", icon=":material/refresh:"):
            st.cache_data.clear()
    page.run()


main()
