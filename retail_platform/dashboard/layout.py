"""Streamlit pieces every page lays out the same way (the formatting itself is ``formatting.py``'s)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from retail_platform.dashboard import formatting as fmt


def show_table(frame: pd.DataFrame, columns: fmt.Columns) -> None:
    """The frame's ``columns`` formatted for people (``formatting.table``), without pandas' row index, which
    means nothing to a reader."""
    st.dataframe(fmt.table(frame, columns), hide_index=True)
