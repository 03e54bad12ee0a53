"""Taking a loaded file back out of the warehouse (issue 13: ``retail-platform retract FILE | --load-id N``).

One transaction, under the load lock (no load runs meanwhile, so line identity cannot shift underneath):

1. the load's lines leave ``raw.transaction_lines`` (``sql/ingestion/11_retract_remove.sql``);
2. copies other exports need are restored from their present lines (``12_retract_restore.sql``): line
   identity counts copies per content, and the retracted load may have stored copies that a later export
   found present (SPEC §3, ``sql/migrations/013_retraction.sql``);
3. its ledger row becomes ``retracted``, and a ``retraction`` row records the months the removal changed
   (``13_retract_months.sql``, ``14_retract_ledger.sql``): the downstream refresh sensor follows new ledger
   rows and rebuilds those months (and what depends on them) like after a load.

Its rejected lines stay listed under the retracted load. The same file dropped again loads again (a duplicate
is recognised only against loads whose status is ``loaded``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, text

from retail_platform.ingestion.loader import LOAD_LOCK_KEY
from retail_platform.warehouse.sql_files import read_sql


class RetractionError(ValueError):
    """The load cannot be retracted (unknown, already retracted, not loaded, ambiguous name): one line."""


@dataclass
class Retraction:
    """What a retraction did."""

    load_id: int
    file_name: str
    lines_removed: int
    lines_restored: int = 0
    restored_to: list[int] = field(default_factory=list)
    months: list[str] = field(default_factory=list)
    retraction_id: int | None = None

    def summary(self) -> str:
        restored = (
            f"; {self.lines_restored:,} identical lines of loads {', '.join(map(str, self.restored_to))} "
            "now stand in for copies it held"
            if self.lines_restored
            else ""
        )
        months = f"{self.months[0][:7]}..{self.months[-1][:7]}" if self.months else "none"
        return (
            f"Retracted {self.file_name} (load {self.load_id}): {self.lines_removed:,} lines removed{restored}; "
            f"ledger row {self.retraction_id} records the months it changed ({months}) for the next refresh"
        )


def retract(
    engine: Engine, *, file_name: str | None = None, load_id: int | None = None, run_id: str | None = None
) -> Retraction:
    """Retract one load, named by its load id or its file name (the file's only load with lines)."""
    if (file_name is None) == (load_id is None):
        raise RetractionError("name either a file or a load id")
    with engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOAD_LOCK_KEY})
        target = _target(conn, file_name, load_id)
        conn.execute(text("CREATE TEMP TABLE retract_removed (LIKE raw.transaction_lines) ON COMMIT DROP"))
        removed = conn.execute(text(read_sql("ingestion/11_retract_remove.sql")), {"load_id": target.load_id})
        done = Retraction(target.load_id, target.file_name, removed.rowcount)
        # The planner cannot estimate the content joins (equalities plus IS NOT DISTINCT FROM on the nullable
        # columns) over lines just written: it guesses one row and loops, which took over 13 minutes for the
        # 525,461 lines of the real data set; with hash joins it takes about 16 s.
        conn.execute(text("ANALYZE retract_removed"))
        conn.execute(text("SET LOCAL enable_nestloop = off"))
        restored = conn.execute(text(read_sql("ingestion/12_retract_restore.sql"))).one()
        done.lines_restored, done.restored_to = int(restored.lines_restored), list(restored.restored_to)
        months = conn.execute(text(read_sql("ingestion/13_retract_months.sql"))).scalar_one()
        done.months = [str(month) for month in months]
        done.retraction_id = conn.execute(
            text(read_sql("ingestion/14_retract_ledger.sql")),
            {
                "load_id": target.load_id,
                "lines_removed": done.lines_removed,
                "months": done.months,
                "run_id": run_id,
                "note": f"retraction of load {target.load_id} ({target.file_name}): "
                f"{done.lines_removed:,} lines removed, {done.lines_restored:,} restored from other loads",
            },
        ).scalar_one()
    return done


def _target(conn: Connection, file_name: str | None, load_id: int | None):
    rows = conn.execute(
        text(read_sql("ingestion/10_retract_target.sql")), {"load_id": load_id, "file_name": file_name}
    ).all()
    what = f"load {load_id}" if load_id is not None else f"file {file_name!r}"
    if not rows:
        raise RetractionError(f"{what} is not in the load ledger (raw.file_loads)")
    loaded = [row for row in rows if row.status == "loaded"]
    if not loaded:
        statuses = ", ".join(f"load {row.load_id}: {row.status}" for row in rows)
        raise RetractionError(f"{what} has no lines in the warehouse to retract ({statuses})")
    if len(loaded) > 1:
        ids = ", ".join(str(row.load_id) for row in loaded)
        raise RetractionError(f"{what} was loaded more than once (loads {ids}): name one with --load-id")
    return loaded[0]
