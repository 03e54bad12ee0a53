"""The catalogue is the product master every sample (and the OLTP simulator) draws from."""

from __future__ import annotations

import numpy as np

from retail_platform.sample_data.catalogue import build_catalogue
from retail_platform.sample_data.specials import SPECIAL_INVOICES, SPECIAL_LINES


def test_products_have_unique_numeric_codes_and_come_before_the_special_codes() -> None:
    catalogue = build_catalogue(3)
    codes = catalogue.codes.tolist()
    products = codes[: catalogue.n_products]
    assert len(set(products)) == len(products)
    assert 3000 < catalogue.n_products < 5000
    assert all(code[:5].isdigit() for code in products)
    assert not set(products) & set(codes[catalogue.n_products :])
    assert codes[catalogue.special_invoice_item[0]] == SPECIAL_INVOICES[0].code
    assert codes[catalogue.special_line_item[-1]] == SPECIAL_LINES[-1].code
    assert [codes[catalogue.post_item], codes[catalogue.c2_item], codes[catalogue.dot_item]] == [
        "POST",
        "C2",
        "DOT",
    ]


def test_only_products_are_drawn_by_popularity() -> None:
    catalogue = build_catalogue(3)
    assert np.isclose(catalogue.popularity.sum(), 1.0)
    assert (catalogue.popularity[: catalogue.n_products] > 0).all()
    assert (catalogue.popularity[catalogue.n_products :] == 0).all()
    assert (catalogue.prices[: catalogue.n_products] >= 0.1).all()


def test_a_seed_fixes_the_products_and_another_seed_changes_them() -> None:
    first, again, other = build_catalogue(3), build_catalogue.__wrapped__(3), build_catalogue(4)
    assert first.codes.tolist() == again.codes.tolist()
    assert first.descriptions.tolist() == again.descriptions.tolist()
    assert first.prices.tolist() == again.prices.tolist()
    assert first.codes.tolist() != other.codes.tolist()
