"""The canonical columns and the header spellings that map to them (SPEC §2)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from retail_platform.settings import PlausibilitySettings

CANONICAL_COLUMNS: tuple[str, ...] = (
    "invoice_no",
    "stock_code",
    "description",
    "quantity",
    "invoice_date",
    "unit_price",
    "customer_id",
    "country",
)

# The longest text value a line may carry (characters), in every format and on both typing paths: a
# 200 KB description is not a product's name but a broken export, and it rejects its line, not the file.
MAX_FIELD_CHARS = 32_768

# Spellings seen in the wild, compared after lower-casing and dropping everything but letters and digits,
# so that "Customer ID", "CustomerID" and "customer_id" all read as "customerid".
_SPELLINGS: dict[str, tuple[str, ...]] = {
    "invoice_no": ("invoice", "invoiceno"),
    "stock_code": ("stockcode",),
    "description": ("description",),
    "quantity": ("quantity",),
    "invoice_date": ("invoicedate",),
    "unit_price": ("price", "unitprice"),
    "customer_id": ("customerid",),
    "country": ("country",),
}
_BY_SPELLING = {spelling: column for column, spellings in _SPELLINGS.items() for spelling in spellings}


class HeaderError(ValueError):
    """The header does not name the eight canonical columns exactly once each; ``column`` is the first
    canonical column at fault (the kept lines of the rejected file name it)."""

    def __init__(self, message: str, column: str | None = None) -> None:
        super().__init__(message)
        self.column = column


def normalize_header(name: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name if name is not None else "").lower())


def named_columns(header: list[object]) -> int:
    """How many distinct canonical columns ``header`` names: a workbook sheet naming fewer than half of them
    is not an export of transactions (a "Notes" or "Summary" sheet) and is skipped, not rejected."""
    return len({_BY_SPELLING[key] for key in map(normalize_header, header) if key in _BY_SPELLING})


def map_header(header: list[object]) -> list[int]:
    """Positions of the canonical columns in ``header``, in canonical order.

    Extra columns are ignored (exports often carry an index column); missing or repeated ones are an error
    whose message names what was expected, so that the rejected-file report says how to fix the export.
    """
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        column = _BY_SPELLING.get(normalize_header(name))
        if column is None:
            continue
        if column in positions:
            raise HeaderError(
                f"column {column} appears twice in the header ({header[positions[column]]!r} and {name!r})",
                column,
            )
        positions[column] = index
    missing = [column for column in CANONICAL_COLUMNS if column not in positions]
    if missing:
        expected = "; ".join(f"{column} (one of: {', '.join(_SPELLINGS[column])})" for column in missing)
        shown = ", ".join(repr(str(name)) for name in header[:12])
        raise HeaderError(
            f"missing columns {', '.join(missing)}: expected {expected}; header is [{shown}]", missing[0]
        )
    return [positions[column] for column in CANONICAL_COLUMNS]


@dataclass(frozen=True)
class LoadBounds:
    """The plausibility bounds of one load (``PlausibilitySettings`` at the moment the load starts), as both
    typing paths compare them: ISO timestamps as text (``first_date`` <= date < ``after_date``, the start
    of the day after tomorrow by default), magnitudes of price and quantity, customer ids above zero."""

    first_date: str
    after_date: str
    max_abs_unit_price: float
    max_abs_quantity: int

    @classmethod
    def at(cls, settings: PlausibilitySettings | None = None, now: datetime | None = None) -> LoadBounds:
        settings = settings or PlausibilitySettings()
        today = (now or datetime.now(UTC)).date()
        return cls(
            first_date=f"{date.fromisoformat(settings.first_date)} 00:00:00",
            after_date=f"{today + timedelta(days=settings.max_days_ahead + 1)} 00:00:00",
            max_abs_unit_price=float(settings.max_abs_unit_price),
            max_abs_quantity=int(settings.max_abs_quantity),
        )

    def params(self) -> dict:
        """The bounds as parameters of ``sql/ingestion/09_plausible_lines.sql``."""
        return {
            "first_date": self.first_date,
            "after_date": self.after_date,
            "max_price": repr(self.max_abs_unit_price),
            "max_quantity": self.max_abs_quantity,
            "max_field": MAX_FIELD_CHARS,
        }
