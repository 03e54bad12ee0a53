"""The pages' list and the Streamlit pieces every page lays out the same way (the formatting itself is
``formatting.py``'s)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from retail_platform.dashboard import formatting as fmt

# the pages in the sidebar's order (file under pages/, title, icon); the first is the default page
PAGE_LIST = (
    ("overview.py", "Overview", ":material/dashboard:"),
    ("trends.py", "Trends", ":material/trending_up:"),
    ("customers.py", "Customers", ":material/group:"),
    ("products.py", "Products", ":material/inventory_2:"),
    ("health.py", "Data health", ":material/monitor_heart:"),
)


def show_table(frame: pd.DataFrame, columns: fmt.Columns) -> None:
    """The frame's ``columns`` formatted for people (``formatting.table``), without pandas' row index, which
    means nothing to a reader."""
    st.dataframe(fmt.table(frame, columns), hide_index=True)


def nothing_to_show(rows: pd.DataFrame, message: str) -> bool:
    """Whether ``rows`` is empty, after telling the reader why (``message``) when it is."""
    if rows.empty:
        st.info(message)
    return rows.empty
