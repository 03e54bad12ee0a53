"""Header mapping (SPEC §2): every spelling seen in the wild maps to the eight canonical columns."""

from __future__ import annotations

import random

import pytest

from retail_platform.ingestion.columns import CANONICAL_COLUMNS, HeaderError, map_header
from retail_platform.sample_data import HEADER_SPELLINGS

# The spellings SPEC §2 lists, column by column (the contract, written out independently of columns.py).
SPEC_SPELLINGS = {
    "invoice_no": ["Invoice", "InvoiceNo", "invoice_no"],
    "stock_code": ["StockCode", "stock_code"],
    "description": ["Description", "description"],
    "quantity": ["Quantity", "quantity"],
    "invoice_date": ["InvoiceDate", "invoice_date"],
    "unit_price": ["Price", "UnitPrice", "unit_price"],
    "customer_id": ["Customer ID", "CustomerID", "customer_id"],
    "country": ["Country", "country"],
}


def expected_positions(header: list[str], names: dict[str, str]) -> list[int]:
    """Where each canonical column's spelling sits in ``header``, in canonical order."""
    return [header.index(names[column]) for column in CANONICAL_COLUMNS]


@pytest.mark.parametrize("spelling", sorted(HEADER_SPELLINGS))
def test_generator_spellings_map_in_any_order(spelling: str) -> None:
    names = HEADER_SPELLINGS[spelling]
    header = [names[column] for column in CANONICAL_COLUMNS]
    assert map_header(header) == list(range(8))
    shuffled = header[:]
    random.Random(spelling).shuffle(shuffled)
    assert shuffled != header
    assert map_header(shuffled) == expected_positions(shuffled, names)


@pytest.mark.parametrize("column", CANONICAL_COLUMNS)
def test_every_spec_spelling_of_a_column_maps(column: str) -> None:
    base = dict(HEADER_SPELLINGS["uci2"])
    for spelling in SPEC_SPELLINGS[column]:
        names = {**base, column: spelling}
        header = [names[c] for c in reversed(CANONICAL_COLUMNS)]
        assert map_header(header) == expected_positions(header, names), spelling


def test_odd_case_spaces_punctuation_and_bom() -> None:
    names = {
        "invoice_no": "\ufeffINVOICE NO",
        "stock_code": " stock-code ",
        "description": "DESCRIPTION",
        "quantity": "Quantity\t",
        "invoice_date": "Invoice Date",
        "unit_price": "Unit_Price",
        "customer_id": "customer id",
        "country": "COUNTRY ",
    }
    header = [names[c] for c in CANONICAL_COLUMNS]
    header = header[4:] + header[:4]
    assert map_header(header) == expected_positions(header, names)


def test_extra_columns_are_ignored() -> None:
    names = HEADER_SPELLINGS["uci1"]
    header = ["", "index", *[names[c] for c in CANONICAL_COLUMNS], "Notes", None]
    header.insert(5, "Unnamed: 3")
    assert map_header(header) == expected_positions(header, names)


@pytest.mark.parametrize("column", CANONICAL_COLUMNS)
def test_missing_column_is_named_in_the_error(column: str) -> None:
    names = HEADER_SPELLINGS["uci2"]
    header = [names[c] for c in CANONICAL_COLUMNS if c != column] + ["Extra"]
    with pytest.raises(HeaderError) as caught:
        map_header(header)
    message = str(caught.value)
    assert f"missing columns {column}" in message
    others = [c for c in CANONICAL_COLUMNS if c != column]
    assert not any(f"missing columns {c}" in message or f", {c}:" in message for c in others)
    # the operator is told what would have been accepted
    assert SPEC_SPELLINGS[column][0].lower().replace(" ", "") in message


def test_several_missing_columns_are_all_named() -> None:
    with pytest.raises(HeaderError) as caught:
        map_header(["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate"])
    message = str(caught.value)
    for column in ("unit_price", "customer_id", "country"):
        assert column in message


@pytest.mark.parametrize(
    ("first", "second", "column"),
    [
        ("Invoice", "InvoiceNo", "invoice_no"),
        ("Price", "UnitPrice", "unit_price"),
        ("Customer ID", "customer_id", "customer_id"),
        ("Country", "COUNTRY", "country"),
    ],
)
def test_duplicate_column_is_an_error(first: str, second: str, column: str) -> None:
    names = dict(HEADER_SPELLINGS["uci2"])
    names[column] = first
    header = [names[c] for c in CANONICAL_COLUMNS] + [second]
    with pytest.raises(HeaderError) as caught:
        map_header(header)
    message = str(caught.value)
    assert column in message
    assert first in message and second in message


def test_header_of_data_values_is_rejected() -> None:
    """A file without a header (its first line is data) must not map by accident."""
    with pytest.raises(HeaderError, match="missing columns"):
        map_header(
            [
                "489434",
                "85048",
                "15CM CHRISTMAS GLASS BALL 20 LIGHTS",
                "12",
                "2009-12-01 07:45:00",
                "6.95",
                "13085",
                "United Kingdom",
            ]
        )
