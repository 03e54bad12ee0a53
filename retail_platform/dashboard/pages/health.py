"""Data health: the latest loads with their line accounting, rejected files and lines with reasons, failing
checks and stale assets, from the views of schema ``monitoring`` (read as ``retail_monitor``)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from retail_platform.dashboard import data
from retail_platform.dashboard import formatting as fmt
from retail_platform.dashboard.data import MONITOR
from retail_platform.dashboard.layout import show_table

FILE_COLUMNS: fmt.Columns = {"file_name": "File", "status": "Status"}  # how both tables of files start
ALERT_KINDS = (
    ("check_failure", "Failing checks"),
    ("stale_asset", "Stale assets"),
    ("run_failure", "Failed runs"),
)


def _when(value: object) -> str:
    return (
        fmt.NOT_AVAILABLE
        if value is None or pd.isna(value)
        else pd.Timestamp(value).strftime("%d %b %Y %H:%M")
    )


def _totals() -> None:
    totals = data.row("load_totals", MONITOR)
    cells = st.columns(5)
    cells[0].metric("Files seen", fmt.count(totals["files"]))
    cells[1].metric("Lines loaded", fmt.count(totals["lines_loaded"]))
    cells[2].metric("Lines already present", fmt.count(totals["lines_already_present"]))
    cells[3].metric("Lines rejected", fmt.count(totals["lines_rejected"]))
    cells[4].metric("Files rejected", fmt.count(totals["files_rejected"]))
    st.caption(
        f"Last load finished {_when(totals['last_load_at'])} (every line read is loaded, already present or rejected)"
    )


def _alerts() -> None:
    """One status per kind of alert, then every open alert in one table."""
    alerts = data.frame("open_alerts", MONITOR)
    for column, (kind, title) in zip(st.columns(len(ALERT_KINDS)), ALERT_KINDS, strict=True):
        open_ = int((alerts["kind"] == kind).sum())
        with column:
            if open_:
                st.warning(f"{title}: {open_} open", icon=":material/warning:")
            else:
                st.success(f"No {title.lower()}", icon=":material/check_circle:")
    if not alerts.empty:
        kinds = dict(ALERT_KINDS)
        show_table(
            alerts,
            {
                "kind": ("Alert", lambda kind: kinds.get(kind, fmt.label(kind)).removesuffix("s")),
                "severity": "Severity",
                "asset_key": ("Asset", lambda v: fmt.NOT_AVAILABLE if v is None else v),
                "check_name": ("Check", lambda v: fmt.NOT_AVAILABLE if v is None else v),
                "message": "Message",
                "raised_at": ("Since", _when),
            },
        )


def render() -> None:
    st.title("Data health")
    _totals()
    st.subheader("Checks and freshness")
    _alerts()
    st.subheader("Latest loads")
    loads = data.frame("latest_loads", MONITOR)
    if loads.empty:
        st.info("No file loaded yet.")
    else:
        show_table(
            loads,
            {
                **FILE_COLUMNS,
                "lines_read": ("Read", fmt.count),
                "lines_loaded": ("Loaded", fmt.count),
                "lines_already_present": ("Already present", fmt.count),
                "lines_rejected": ("Rejected", fmt.count),
                "seconds": ("Seconds", fmt.decimal),
                "finished_at": ("Finished", _when),
            },
        )
    st.subheader("Rejected files and lines")
    rejections = data.frame("rejections", MONITOR)
    if rejections.empty:
        st.success("Nothing rejected", icon=":material/check_circle:")
    else:
        show_table(
            rejections,
            {
                **FILE_COLUMNS,
                "column_name": ("Column", lambda v: "(whole file)" if v is None or pd.isna(v) else v),
                "lines": ("Lines", fmt.count),
                "reason": "Reason (example)",
                "first_row": ("First row", fmt.count),
            },
        )


if __name__ == "__main__":
    render()
