"""Entry point of the dashboard (``streamlit run`` this file; ``retail-platform dashboard`` does)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from sqlalchemy.engine import make_url

from retail_platform.dashboard import data
from retail_platform.dashboard.data import CACHE_TTL_SECONDS, READER
from retail_platform.dashboard.layout import PAGE_LIST

PAGES = Path(__file__).resolve().parent / "pages"


def _where(url: str) -> str:
    """'retail on db.example.com' (no user, no password, no socket path)."""
    parsed = make_url(url)
    return f"{parsed.database} on {parsed.host}" if parsed.host else f"{parsed.database} (embedded server)"


def main() -> None:
    st.set_page_config(page_title="Retail dashboard", page_icon=":material/storefront:", layout="wide")
    pages = [
        st.Page(PAGES / file, title=title, icon=icon, default=index == 0)
        for index, (file, title, icon) in enumerate(PAGE_LIST)
    ]
    page = st.navigation(pages)
    with st.sidebar:
        st.caption(
            f"Warehouse {_where(data.dashboard_url())}, read-only as {READER}. "
            f"Figures are cached for {CACHE_TTL_SECONDS} s."
        )
        if st.button("Refresh figures now", icon=":material/refresh:"):
            st.cache_data.clear()
    page.run()


main()
