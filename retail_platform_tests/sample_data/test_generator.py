"""The sample generator must be deterministic, exact in size, realistic in shape and carry every quirk."""

from __future__ import annotations

import csv
import gzip
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from retail_platform.sample_data import CANONICAL_COLUMNS, HEADER_SPELLINGS, iter_sample_chunks, write_sample

READ_DTYPES = {"invoice_no": str, "stock_code": str, "description": str, "country": str}


def sample(rows: int, seed: int, chunk_rows: int = 200_000, **kwargs: object) -> pd.DataFrame:
    return pd.concat(list(iter_sample_chunks(rows, seed, chunk_rows, **kwargs)), ignore_index=True)


@pytest.fixture(scope="module")
def year() -> pd.DataFrame:
    """A full default year, big enough for shares and seasonality to be stable."""
    return sample(120_000, 11)


def quirks(frame: pd.DataFrame) -> dict[str, bool]:
    """Each quirk SPEC §2 promises, as a predicate over a canonical frame."""
    inv = frame["invoice_no"]
    codes = set(frame["stock_code"])
    desc = frame["description"].dropna()
    cancel = inv.str.startswith("C")
    bad_debt = inv.str.startswith("A")
    return {
        "cancellation": bool(cancel.any()) and bool((frame.loc[cancel, "quantity"] < 0).all()),
        "bad_debt": bool(
            (
                bad_debt
                & (frame["stock_code"] == "B")
                & (frame["description"] == "Adjust bad debt")
                & (frame["quantity"] == 1)
                & frame["customer_id"].isna()
            ).any()
        ),
        **{
            f"code {c}": c in codes
            for c in ("POST", "DOT", "M", "D", "C2", "BANK CHARGES", "AMAZONFEE", "ADJUST", "TEST001", "PADS")
        },
        "code CRUK": "CRUK" in codes,
        "gift voucher": any(c.startswith("gift_0001_") for c in codes),
        "DCGS": any(c.startswith("DCGS") for c in codes),
        "no customer": bool(frame["customer_id"].isna().any()),
        "no description": bool(frame["description"].isna().any()),
        "zero price": bool((frame["unit_price"] == 0).any()),
        "0.001 price": bool((frame["unit_price"] == 0.001).any()),
        "80995": bool((frame["quantity"] == 80995).any()) and bool((frame["quantity"] == -80995).any()),
        "duplicate line": bool(frame.duplicated().any()),
        "padded description": bool((desc.str.endswith(" ") | desc.str.startswith(" ")).any()),
        "big quantity": bool((frame["quantity"] >= 100).any()),
        "variant code": bool(frame["stock_code"].str.fullmatch(r"\d{5}[A-Za-z]+").any()),
    }


# --- determinism and size ---------------------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    for name in ("a.csv", "b.csv", "a.csv.gz", "b.csv.gz"):
        write_sample(tmp_path / name, 3000, seed=5)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert (tmp_path / "a.csv.gz").read_bytes() == (tmp_path / "b.csv.gz").read_bytes()
    write_sample(tmp_path / "c.csv", 3000, seed=6)
    assert (tmp_path / "a.csv").read_bytes() != (tmp_path / "c.csv").read_bytes()


@pytest.mark.parametrize(
    ("rows", "chunk_rows"), [(0, 100), (1, 100), (999, 1000), (1000, 1000), (2345, 1000)]
)
def test_exact_row_counts_across_chunks(rows: int, chunk_rows: int) -> None:
    chunks = list(iter_sample_chunks(rows, 3, chunk_rows))
    assert [len(c) for c in chunks] == [chunk_rows] * (rows // chunk_rows) + (
        [rows % chunk_rows] if rows % chunk_rows else []
    )
    if rows:
        frame = pd.concat(chunks, ignore_index=True)
        assert list(frame.columns) == list(CANONICAL_COLUMNS)
        # Invoice numbers and times keep increasing over chunk boundaries.
        numbers = frame["invoice_no"].str.lstrip("CA").astype(int)
        assert numbers.is_monotonic_increasing
        assert frame["invoice_date"].is_monotonic_increasing


def test_write_returns_and_writes_the_row_count(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "s.csv"
    assert write_sample(path, 2500, 1, chunk_rows=1000) == 2500
    assert len(pd.read_csv(path)) == 2500


def test_chunks_are_lazy_so_huge_samples_stream() -> None:
    chunks = iter_sample_chunks(10_000_000, 2, chunk_rows=5000)
    first = next(chunks)
    assert len(first) == 5000
    assert first["invoice_date"].max() < pd.Timestamp("2009-12-02")


# --- quirks and shape -------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2, 42])
def test_every_quirk_in_a_5000_row_sample(seed: int) -> None:
    found = quirks(sample(5000, seed))
    assert [name for name, ok in found.items() if not ok] == []


def test_every_quirk_in_each_small_chunk() -> None:
    for chunk in iter_sample_chunks(4000, 9, chunk_rows=2000):
        found = quirks(chunk)
        assert [name for name, ok in found.items() if not ok] == []


def test_column_types() -> None:
    frame = sample(2000, 4)
    assert frame["quantity"].dtype == np.int64
    assert frame["unit_price"].dtype == np.float64
    assert str(frame["customer_id"].dtype) == "Int64"
    assert frame["invoice_date"].dtype.kind == "M" and frame["invoice_date"].dt.tz is None
    assert (frame["invoice_date"].dt.second == 0).all()
    for column in ("invoice_no", "stock_code", "country"):
        assert frame[column].notna().all() and pd.api.types.is_string_dtype(frame[column])
    prices = frame["unit_price"]
    assert ((prices.round(2) == prices) | (prices.round(3) == prices)).all()


def test_invoices_are_consistent(year: pd.DataFrame) -> None:
    per_invoice = (
        year.assign(customer=year["customer_id"].fillna(0))
        .groupby("invoice_no")
        .agg(
            dates=("invoice_date", "nunique"),
            customers=("customer", "nunique"),
            countries=("country", "nunique"),
        )
    )
    assert (per_invoice.max() == 1).all()
    customers = year.dropna(subset=["customer_id"])
    assert customers.groupby("customer_id")["country"].nunique().max() == 1
    assert customers["customer_id"].between(12346, 18287).all()
    assert (year.loc[year["invoice_no"].str.startswith("C"), "quantity"] < 0).all()


def test_shares_are_plausible(year: pd.DataFrame) -> None:
    n = len(year)
    uk = (year["country"] == "United Kingdom").mean()
    assert 0.85 <= uk <= 0.97
    assert year["country"].value_counts().index[0] == "United Kingdom"
    assert 20 <= year["country"].nunique() <= 40
    assert 0.17 <= year["customer_id"].isna().mean() <= 0.29
    assert 0.012 <= year["invoice_no"].str.startswith("C").mean() <= 0.03
    assert 0.002 <= year["description"].isna().mean() <= 0.01
    assert 0.003 <= year.duplicated().mean() <= 0.03
    lines = year.groupby("invoice_no").size()
    assert 5 <= lines.median() <= 20 and lines.max() > 5 * lines.median()
    assert 1500 <= year["stock_code"].nunique() <= 5000

    customers = year.dropna(subset=["customer_id"])
    lines_per_customer = customers.groupby("customer_id").size().sort_values(ascending=False)
    invoices_per_customer = customers.groupby("customer_id")["invoice_no"].nunique()
    top_decile = lines_per_customer.head(max(1, len(lines_per_customer) // 10)).sum() / len(customers)
    assert 0.3 <= top_decile <= 0.7  # a few whales
    assert 0.1 <= (invoices_per_customer == 1).mean() <= 0.5  # many one-off buyers
    assert lines_per_customer.iloc[0] / n < 0.05
    assert 500 <= len(lines_per_customer) <= 5942


def test_customer_pool_scales_with_rows() -> None:
    small = sample(5000, 3)["customer_id"].nunique()
    large = sample(100_000, 3)["customer_id"].nunique()
    assert 20 <= small < large


def test_seasonality_and_opening_hours(year: pd.DataFrame) -> None:
    dates = year["invoice_date"]
    assert dates.min() >= pd.Timestamp("2009-12-01") and dates.max() < pd.Timestamp("2010-12-10")
    by_month = dates.dt.month.value_counts()
    assert by_month.idxmax() == 11
    assert by_month[11] > 1.5 * by_month[[1, 2, 4, 5, 7, 8]].mean()
    assert not (dates.dt.day_of_week == 5).any()  # no Saturday trading
    assert dates.dt.hour.between(7, 20).all()
    assert dates.dt.hour.value_counts().idxmax() in (11, 12, 13, 14)
    weekday = dates.dt.day_of_week.value_counts()
    assert weekday[[0, 1, 2, 3]].min() > weekday[6]


def test_start_and_days_are_configurable() -> None:
    frame = sample(3000, 1, start="2011-03-01", days=30)
    assert frame["invoice_date"].min() >= pd.Timestamp("2011-03-01")
    assert frame["invoice_date"].max() < pd.Timestamp("2011-03-31")


# --- headers and formats ----------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", sorted(HEADER_SPELLINGS))
def test_header_spellings(tmp_path: Path, spelling: str) -> None:
    path = tmp_path / "s.csv"
    write_sample(path, 50, 1, spelling=spelling)
    header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header == [HEADER_SPELLINGS[spelling][c] for c in CANONICAL_COLUMNS]


def test_uci2_header_is_the_real_one(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    write_sample(path, 5, 1)
    assert (
        path.read_text().splitlines()[0]
        == "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country"
    )


def test_csv_text_follows_the_real_export(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    write_sample(path, 3000, 2)
    with path.open(newline="", encoding="utf-8") as handle:
        records = list(csv.reader(handle))[1:]
    prices = {r[5] for r in records}
    assert "0.0" in prices and "0.001" in prices and not any(p.endswith("00") for p in prices if "." in p)
    assert all(re.fullmatch(r"\d{5}|", r[6]) for r in records)  # 13085, or empty for a guest
    assert "" in {r[6] for r in records} and "" in {r[2] for r in records}
    assert all(re.fullmatch(r"20\d\d-\d\d-\d\d \d\d:\d\d:00", r[4]) for r in records)


def test_csv_options(tmp_path: Path) -> None:
    write_sample(tmp_path / "f.csv", 300, 2, float_customer_ids=True)
    ids = pd.read_csv(tmp_path / "f.csv")["Customer ID"].dropna()
    text = (tmp_path / "f.csv").read_text()
    assert f",{int(ids.iloc[0])}.0," in text
    write_sample(tmp_path / "bom.csv", 300, 2, encoding="utf-8-sig")
    assert (tmp_path / "bom.csv").read_bytes().startswith(b"\xef\xbb\xbfInvoice,")
    write_sample(tmp_path / "latin.csv", 5000, 2, encoding="latin-1")
    assert len(pd.read_csv(tmp_path / "latin.csv", encoding="latin-1")) == 5000


def canonical_read(path: Path, spelling: str) -> pd.DataFrame:
    rename = {v: k for k, v in HEADER_SPELLINGS[spelling].items()}
    name = path.name
    if name.endswith(".parquet"):
        frame = pd.read_parquet(path)
    elif name.endswith(".xlsx"):
        frame = pd.read_excel(
            path, engine="openpyxl", dtype={HEADER_SPELLINGS[spelling][c]: str for c in READ_DTYPES}
        )
    else:
        dtypes = {HEADER_SPELLINGS[spelling][c]: t for c, t in READ_DTYPES.items()}
        frame = pd.read_csv(path, dtype=dtypes, keep_default_na=False, na_values=[""])
    frame = frame.rename(columns=rename)
    frame["invoice_date"] = pd.to_datetime(frame["invoice_date"])
    frame["customer_id"] = frame["customer_id"].astype("Int64")
    return frame


@pytest.mark.parametrize(
    ("name", "spelling"),
    [("s.csv", "uci2"), ("s.csv.gz", "uci1"), ("s.parquet", "snake"), ("s.xlsx", "uci2")],
)
def test_formats_round_trip(tmp_path: Path, name: str, spelling: str) -> None:
    expected = sample(400, 8, chunk_rows=250)
    path = tmp_path / name
    assert write_sample(path, 400, 8, spelling=spelling, chunk_rows=250) == 400
    got = canonical_read(path, spelling)
    assert list(got.columns) == list(CANONICAL_COLUMNS)
    assert len(got) == len(expected)
    for column in ("invoice_no", "stock_code", "country"):
        assert got[column].tolist() == expected[column].tolist(), column
    assert got["description"].isna().tolist() == expected["description"].isna().tolist()
    assert got["description"].dropna().tolist() == expected["description"].dropna().tolist()
    assert got["quantity"].astype("int64").tolist() == expected["quantity"].tolist()
    assert got["unit_price"].astype("float64").tolist() == expected["unit_price"].tolist()
    assert got["customer_id"].tolist() == expected["customer_id"].tolist()
    assert (got["invoice_date"].astype("datetime64[us]") == expected["invoice_date"]).all()


def test_gzip_is_real_gzip(tmp_path: Path) -> None:
    path = tmp_path / "s.csv.gz"
    write_sample(path, 100, 1)
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        assert handle.readline().startswith("Invoice,")


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unsupported"):
        write_sample(tmp_path / "s.json", 10, 1)
    with pytest.raises(ValueError, match="spelling"):
        write_sample(tmp_path / "s.csv", 10, 1, spelling="camel")
    with pytest.raises(ValueError, match="xlsx"):
        write_sample(tmp_path / "s.xlsx", 2_000_000, 1)
    with pytest.raises(ValueError):
        next(iter_sample_chunks(-1, 1))
    with pytest.raises(ValueError):
        next(iter_sample_chunks(10, 1, chunk_rows=0))


@pytest.mark.parametrize("name", ["e.csv", "e.csv.gz", "e.parquet", "e.xlsx"])
def test_empty_sample_still_has_a_header(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    assert write_sample(path, 0, 1) == 0
    got = canonical_read(path, "uci2")
    assert list(got.columns) == list(CANONICAL_COLUMNS) and len(got) == 0
