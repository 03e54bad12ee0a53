"""Metadata every table asset reports in the UI: row count, column schema, a preview, the table name."""

from decimal import Decimal

import dagster as dg
from sqlalchemy import Connection, text

PREVIEW_ROWS = 10
PREVIEW_CELL_CHARS = 80  # a preview shows what a value is, not all of it: a 100 KB description is clipped


def qualified(conn: Connection, table: str) -> str:
    """``schema.table`` with both parts quoted as identifiers."""
    quote = conn.dialect.identifier_preparer.quote
    schema, name = table.split(".")
    return f"{quote(schema)}.{quote(name)}"


def clip(value: str, width: int = PREVIEW_CELL_CHARS) -> str:
    """``value`` on one line and at most ``width`` characters, an ellipsis saying it was cut: metadata the
    UI stores and renders for every materialization (a bad file's 100 KB field must not be carried whole)."""
    flat = " ".join(value.split()) if any(c in value for c in "\r\n\t") else value
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float | Decimal):
        return f"{value:,.2f}" if abs(value) >= 1 or value == 0 else f"{value:.4g}"
    return clip(str(value)).replace("|", "\\|")


def table_metadata(
    conn: Connection, table: str, order_by: str | None = None, row_count: int | None = None
) -> dict[str, dg.MetadataValue]:
    """Row count, column schema and a preview of ``table`` for the UI (``row_count``: already counted)."""
    schema, name = table.split(".")
    columns = conn.execute(
        text(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
            " WHERE table_schema = :schema AND table_name = :name ORDER BY ordinal_position"
        ),
        {"schema": schema, "name": name},
    ).all()
    rows = row_count
    if rows is None:
        rows = conn.execute(text(f"SELECT count(*) FROM {qualified(conn, table)}")).scalar_one()
    order = f" ORDER BY {conn.dialect.identifier_preparer.quote(order_by)}" if order_by else ""
    preview = conn.execute(text(f"SELECT * FROM {qualified(conn, table)}{order} LIMIT {PREVIEW_ROWS}")).all()
    header = [column.column_name for column in columns]
    markdown = "\n".join(
        [
            "| " + " | ".join(header) + " |",
            "|" + "---|" * len(header),
            *("| " + " | ".join(_cell(value) for value in row) + " |" for row in preview),
        ]
    )
    schema_value = dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=column.column_name,
                type=column.data_type,
                constraints=dg.TableColumnConstraints(nullable=column.is_nullable == "YES"),
            )
            for column in columns
        ]
    )
    return {
        "dagster/row_count": dg.MetadataValue.int(rows),
        "dagster/column_schema": dg.MetadataValue.table_schema(schema_value),
        "dagster/table_name": dg.MetadataValue.text(table),
        "preview": dg.MetadataValue.md(markdown if preview else "_empty table_"),
    }
