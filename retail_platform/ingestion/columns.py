"""The canonical columns and the header spellings that map to them (SPEC §2)."""

from __future__ import annotations

import re

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
    """The header does not name the eight canonical columns exactly once each."""


def normalize_header(name: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name if name is not None else "").lower())


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
                f"column {column} appears twice in the header ({header[positions[column]]!r} and {name!r})"
            )
        positions[column] = index
    missing = [column for column in CANONICAL_COLUMNS if column not in positions]
    if missing:
        expected = "; ".join(f"{column} (one of: {', '.join(_SPELLINGS[column])})" for column in missing)
        shown = ", ".join(repr(str(name)) for name in header[:12])
        raise HeaderError(f"missing columns {', '.join(missing)}: expected {expected}; header is [{shown}]")
    return [positions[column] for column in CANONICAL_COLUMNS]
