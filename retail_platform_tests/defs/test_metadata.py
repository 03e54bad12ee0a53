"""Table metadata for the UI (issue 13, defect 14): previews carry clipped cells, never a whole 100 KB field."""

from sqlalchemy import text

from retail_platform.defs.metadata import PREVIEW_CELL_CHARS, table_metadata


def test_preview_cells_are_clipped_with_an_ellipsis(engine):
    huge = "x" * 100_000
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE ops.preview_probe (id int, description text, note text)"))
        conn.execute(
            text("INSERT INTO ops.preview_probe VALUES (1, :huge, :multi), (2, 'short', NULL)"),
            {"huge": huge, "multi": "line one\nline | two"},
        )
        metadata = table_metadata(conn, "ops.preview_probe", order_by="id")
    preview = metadata["preview"].value
    assert len(preview) < 1_000
    assert "x" * (PREVIEW_CELL_CHARS - 1) + "…" in preview and "x" * PREVIEW_CELL_CHARS not in preview
    assert "line one line \\| two" in preview  # one table row per line, pipes escaped
    assert "| 2 | short |  |" in preview
    assert metadata["dagster/row_count"].value == 2
