"""Loading the blocks of a file's exports into ``raw.transaction_lines``, each by the cheapest of three paths
that give the same result (see ``loader`` for the whole path of a file): a binary COPY straight into the
table, the typed stage (``sql/ingestion/06_insert_transactions.sql``) or the checked stage
(``sql/ingestion/02_check_stage.sql``), plus bulk mode for a big first file into an empty table.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pyarrow as pa
from sqlalchemy import Connection, text

from retail_platform.ingestion.columns import LoadBounds
from retail_platform.ingestion.exports import Export, FileRejected
from retail_platform.ingestion.ledger import LoadResult, insert_export, rejected_samples, update_load
from retail_platform.ingestion.pgcopy import csv_bytes, write_binary
from retail_platform.ingestion.streams import invoice_aligned, prefetched
from retail_platform.ingestion.typed_blocks import ROW_COLUMNS, Typed, prepared_blocks
from retail_platform.warehouse.empty_tables import drop_indexes, take_if_empty
from retail_platform.warehouse.sql_files import read_sql, run_script

Progress = Callable[[str], None]

_STAGE_COLUMNS = (
    "export_no, source_row, structural_error, raw_text, invoice_no, stock_code, description, quantity, "
    "invoice_date, unit_price, customer_id, country"
)
_MAX_EXPORT_NO = 32_767  # raw.transaction_lines.export_no is a smallint
_PROGRESS_EVERY = 250_000
# Bulk mode (see BlockLoader) for files from this size on; smaller ones are not worth a rebuild of indexes.
BULK_LOAD_MIN_BYTES = 16 << 20


class BlockLoader:
    """Loads the blocks of every export of one file, on the file's transaction (see the module docstring)."""

    def __init__(
        self,
        conn: Connection,
        name: str,
        load_id: int,
        progress: Progress,
        size_bytes: int = 0,
        bounds: LoadBounds | None = None,
    ) -> None:
        self.conn = conn
        self.pg: psycopg.Connection = conn.connection.driver_connection
        self.name = name
        self.load_id = load_id
        self.progress = progress
        self.size_bytes = size_bytes
        self.export_names: list[str] = []
        self.bounds = bounds or LoadBounds.at()  # plausibility bounds, fixed when the load starts
        self.notes: list[str] = []  # what the ledger row should say besides the counts (skipped sheets)
        self.lines_read = self.lines_rejected = self.lines_loaded = 0
        self.months: set[str] = set()  # YYYY-MM-01 of the lines inserted (the ledger's months_touched)
        self._reported = 0
        self._frozen = False  # bulk mode: this load emptied raw.transaction_lines, so COPY FREEZE
        self._dropped_indexes: list[str] = []  # bulk mode: the definitions of the indexes to build again
        self._unsummarized = True  # lines may sit in BRIN ranges not yet summarized

    def load_export(self, export: Export) -> None:
        if export.skipped is not None:  # not a table of transactions (a "Notes" sheet): said, not loaded
            self.notes.append(export.skipped)
            return
        export_no = len(self.export_names)
        if export_no > _MAX_EXPORT_NO:
            raise FileRejected(f"more than {_MAX_EXPORT_NO + 1:,} sheets: not an export of transactions")
        self.export_names.append(export.name)
        insert_export(self.conn, self.load_id, export_no, export.name)
        self.pg.execute("TRUNCATE load_present")
        # The first export into an empty warehouse: no line of another export can be present, so every block
        # without suspects is COPYed as it is, without asking the warehouse.
        alone = (
            export_no == 0
            and not self.pg.execute("SELECT EXISTS (SELECT 1 FROM raw.transaction_lines)").fetchone()[0]
        )
        blocks = invoice_aligned(export.text_batches())
        prepared = prepared_blocks(
            blocks, self.load_id, export_no, first_position=self.lines_read, bounds=self.bounds
        )
        if export.batches is not None:  # file readers: read and type the next blocks while this one loads
            prepared = prefetched(prepared)
            if alone and self.size_bytes >= BULK_LOAD_MIN_BYTES:
                self._start_bulk()
        try:
            for block, typed, suspects, first_line_id in prepared:
                self.lines_read += block.num_rows
                if typed is None:
                    loaded = self._checked_stage(export_no, block, first_line_id)
                elif suspects or (not alone and self._overlaps(export_no, typed)):
                    loaded = self._typed_stage(export_no, typed.rows)
                else:
                    loaded = self._copy(typed.rows)
                    self.months.update(typed.months)
                self.lines_loaded += loaded
                if self.lines_read - self._reported >= _PROGRESS_EVERY:
                    self._reported = self.lines_read
                    self.progress(
                        f"{self.name}: {self.lines_read:,} lines read, {self.lines_loaded:,} loaded"
                    )
        finally:
            close = getattr(prepared, "close", None)
            if close is not None:
                close()
        self._end_bulk()

    def _start_bulk(self) -> None:
        """Bulk mode, for a big first file into an empty raw.transaction_lines (``take_if_empty``): the table is
        truncated in this transaction, so its blocks are COPYed frozen (no later VACUUM pass to mark them
        visible) and, on a server with ``wal_level = minimal`` such as the embedded one, without WAL (the
        files are synced at commit instead); its indexes are built once at the end. A reader holding the table
        (an analyst's open transaction) must not stall the load: after 2 s it goes on without bulk mode."""
        indexes: list[str] = []
        if take_if_empty(
            self.pg,
            "raw.transaction_lines",
            then=lambda: indexes.extend(drop_indexes(self.pg, "raw.transaction_lines")),
        ):
            self._frozen = True
            self._dropped_indexes = indexes
            self.progress(
                f"{self.name}: bulk load into the empty raw.transactions, its index built at the end"
            )

    def _end_bulk(self) -> None:
        """Build the indexes bulk mode dropped: at the end of the export, or before the first block that
        reads through them (a block compared with the lines loaded so far)."""
        definitions, self._dropped_indexes = self._dropped_indexes, []
        for definition in definitions:
            self.pg.execute(definition)

    def _copy(self, rows: memoryview) -> int:
        freeze = ", FREEZE" if self._frozen else ""
        with self.pg.cursor() as cursor:
            with cursor.copy(
                f"COPY raw.transaction_lines ({ROW_COLUMNS}) FROM STDIN (FORMAT binary{freeze})"
            ) as copy:
                write_binary(copy, rows)
            self._unsummarized = True
            return cursor.rowcount

    def _summarize(self) -> None:
        """Summarize the BRIN ranges written since the last look (the index skips a summarized range whose dates
        are not wanted; an unsummarized one is always read): a few new pages per block, once."""
        self._end_bulk()
        if self._unsummarized:
            self.pg.execute(
                "SELECT brin_summarize_new_values('raw.transaction_lines_invoice_date'::regclass)"
            )
            self._unsummarized = False

    def _overlaps(self, export_no: int, typed: Typed) -> bool:
        """Whether the warehouse holds lines of other exports on the block's dates."""
        self._summarize()
        return self.conn.execute(
            text(read_sql("ingestion/07_block_overlaps.sql")),
            {
                "first_date": typed.first_date,
                "last_date": typed.last_date,
                "load_id": self.load_id,
                "export_no": export_no,
            },
        ).scalar_one()

    def _typed_stage(self, export_no: int, rows: memoryview) -> int:
        self.pg.execute("TRUNCATE load_batch")
        with (
            self.pg.cursor() as cursor,
            cursor.copy(f"COPY load_batch ({ROW_COLUMNS}) FROM STDIN (FORMAT binary)") as copy,
        ):
            write_binary(copy, rows)
        return self._insert_batch(export_no)

    def _insert_batch(self, export_no: int) -> int:
        """Insert load_batch exactly once; the number of lines loaded (the others were present)."""
        self._summarize()
        row = self.conn.execute(
            text(read_sql("ingestion/06_insert_transactions.sql")),
            {"load_id": self.load_id, "export_no": export_no},
        ).one()
        if row.lines_loaded:
            self._unsummarized = True
            self.months.update(str(month) for month in row.months)
        return row.lines_loaded

    def _checked_stage(self, export_no: int, block: pa.Table, first_line_id: int) -> int:
        """Type and check a block in SQL: its bad lines are rejected with reasons, the good ones inserted."""
        self.pg.execute("TRUNCATE load_stage")
        stage = block.add_column(0, "export_no", pa.repeat(pa.scalar(export_no, pa.int32()), block.num_rows))
        with (
            self.pg.cursor() as cursor,
            cursor.copy(f"COPY load_stage ({_STAGE_COLUMNS}) FROM STDIN (FORMAT csv)") as copy,
        ):
            copy.write(csv_bytes(stage))
        run_script(self.conn, read_sql("ingestion/02_check_stage.sql"))
        self.conn.execute(text(read_sql("ingestion/09_plausible_lines.sql")), self.bounds.params())
        counts = self.conn.execute(text(read_sql("ingestion/03_count_stage.sql"))).one()
        self.lines_rejected += counts.lines_rejected
        if counts.lines_rejected:
            self.conn.execute(
                text(read_sql("ingestion/04_insert_rejected_lines.sql")),
                {"load_id": self.load_id, "file_name": self.name, "export_names": self.export_names},
            )
        self.pg.execute("TRUNCATE load_batch")
        self.conn.execute(
            text(read_sql("ingestion/05_batch_checked_lines.sql")),
            {"load_id": self.load_id, "export_no": export_no, "first_line_id": first_line_id},
        )
        return self._insert_batch(export_no)


def keep_rejected_file(conn: Connection, result: LoadResult, rejection: FileRejected) -> None:
    """Every line of a wholly rejected file into raw.rejected_lines, with the file's reason (issue 13, defect
    8), streamed by one COPY (memory stays flat whatever the file's size); the ledger row then counts the
    lines kept, so that lines read = lines rejected = lines listed."""
    if rejection.keep is None or result.load_id is None:
        return
    reason = str(rejection)
    kept = 0
    pg: psycopg.Connection = conn.connection.driver_connection
    with (
        pg.cursor() as cursor,
        cursor.copy(
            "COPY raw.rejected_lines (load_id, file_name, source_export, source_row, column_name, raw_text,"
            " reason) FROM STDIN"
        ) as copy,
    ):
        for export, row, raw_text, column in rejection.keep():
            copy.write_row((result.load_id, result.file_name, export, row, column, raw_text, reason))
            kept += 1
    if kept != result.lines_read:
        result.lines_read = result.lines_rejected = kept
        update_load(conn, result)
    result.rejected_samples = rejected_samples(conn, result.load_id)
