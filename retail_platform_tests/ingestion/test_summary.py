"""Run totals and the files table, on ledger-like rows."""

from types import SimpleNamespace

from retail_platform.ingestion.summary import files_markdown, run_totals

# the ledger's fields that the totals and the table read
FIELDS = ("file_name", "status", "lines_read", "lines_loaded", "lines_already_present", "lines_rejected")


def _load(*values: str | int) -> SimpleNamespace:
    """A ledger-like row from its ``FIELDS`` values, in that order."""
    return SimpleNamespace(**dict(zip(FIELDS, values, strict=True)))


def test_totals_add_up_every_counter_and_count_rejected_files():
    loads = [_load("a.csv", "loaded", 10, 7, 2, 1), _load("b.csv", "rejected", 1_200, 0, 0, 1_200)]
    assert run_totals(loads) == {
        "files_seen": 2,
        "files_rejected": 1,
        "lines_read": 1_210,
        "lines_loaded": 7,
        "lines_already_present": 2,
        "lines_rejected": 1_201,
    }


def test_the_files_table_has_a_row_per_file_with_thousands_separators():
    table = files_markdown([_load("a.csv", "loaded", 1_234, 1_000, 200, 34)])
    assert table.splitlines()[-1] == "| a.csv | loaded | 1,234 | 1,000 | 200 | 34 |  |"
    assert files_markdown([]) == "_no files waiting_"


def test_the_files_table_names_why_and_survives_hostile_names():
    """Issue 13: the run's table says why a file was rejected (or its first bad line); a name with a pipe or
    a line break stays one cell."""
    bad = _load("a|b\nc.csv", "rejected", 3, 0, 0, 3)
    bad.error = "a.csv: missing columns unit_price | " + "x" * 1_000
    [row] = files_markdown([bad]).splitlines()[2:]
    assert row.startswith(
        "| a\\|b c.csv | rejected | 3 | 0 | 0 | 3 | a.csv: missing columns unit_price \\| x"
    )
    assert row.count(" | ") == 6 and len(row) < 400
