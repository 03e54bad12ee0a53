"""Every page of the dashboard in Streamlit's AppTest on a generated warehouse: the figures shown are the
marts' (read here straight from the marts and formatted with the dashboard's formatting functions)."""

from __future__ import annotations

import pandas as pd
import pytest

from retail_platform.analytics.chart_style import NEGATIVE, PRIMARY
from retail_platform.dashboard import formatting as fmt
from retail_platform.dashboard.pages.overview import comparison_text
from retail_platform_tests.dashboard.conftest import BuiltWarehouse


def metrics(test) -> dict[str, tuple[str, str]]:
    return {metric.label: (metric.value, metric.delta) for metric in test.metric}


def texts(elements) -> list[str]:
    return [element.value for element in elements]


def assert_figures(test, expected: dict[str, str]) -> None:
    """The metrics labelled as ``expected``'s keys show its values (all compared at once, so a failure lists
    every figure)."""
    shown = {label: value for label, (value, _delta) in metrics(test).items()}
    assert {label: shown.get(label) for label in expected} == expected


def test_overview_shows_the_latest_month_against_the_previous_and_a_year_before(app, built: BuiltWarehouse):
    kpis = built.frame("SELECT * FROM marts.monthly_kpis ORDER BY month")
    kpis["month"] = pd.to_datetime(kpis["month"])
    latest = kpis.iloc[-1]
    previous_month = latest["month"] - pd.DateOffset(months=1)
    previous = kpis[kpis["month"] == previous_month].iloc[0]
    year_before = kpis[kpis["month"] == latest["month"] - pd.DateOffset(years=1)]

    test = app()
    shown = metrics(test)

    assert_figures(
        test,
        {
            "Net sales": fmt.money(latest["net_sales"]),
            "Placed orders": fmt.count(latest["placed_orders"]),
            "Active customers": fmt.count(latest["active_customers"]),
            "New customers": fmt.count(latest["new_customers"]),
        },
    )
    change = 100 * (float(latest["net_sales"]) / float(previous["net_sales"]) - 1)
    assert shown["Net sales"][1] == f"{change:+.1f}% vs {previous_month:%b %Y}"
    yearly = comparison_text(latest, year_before.iloc[0] if len(year_before) else None, "net_sales",
                             latest["month"] - pd.DateOffset(years=1))  # fmt: skip
    assert f"Year on year: {yearly}" in texts(test.caption)


def trend_figures(row: pd.Series) -> dict[str, str]:
    """The Trends page's headline figures for a row in marts.sales_by_country's columns."""
    return {
        "Net sales": fmt.money(row["net_sales"]),
        "Placed orders": fmt.count(row["invoices"]),
        "Canceled orders": fmt.count(row["canceled_orders"]),
    }


def test_trends_totals_equal_the_marts_for_the_shop_and_for_one_country(app, built: BuiltWarehouse):
    kpis = built.frame("SELECT sum(net_sales) AS net_sales, sum(placed_orders) AS invoices,"
                       " sum(canceled_orders) AS canceled_orders FROM marts.monthly_kpis").iloc[0]  # fmt: skip
    test = app("trends")
    assert_figures(test, trend_figures(kpis))
    charts = test.get("vega_lite_chart")
    assert len(charts) == 3  # sales, orders, growth
    assert PRIMARY in charts[0].proto.spec and NEGATIVE in charts[1].proto.spec  # the PNG charts' palette

    country = built.frame("SELECT * FROM marts.sales_by_country ORDER BY net_sales DESC").iloc[1]
    test.selectbox(key="country").set_value(country["country"]).run()
    assert_figures(test, trend_figures(country))

    test.radio(key="granularity").set_value("day").run()
    assert not test.exception
    days = test.expander[0].dataframe[0].value
    per_day = built.frame(
        "SELECT invoice_date::date AS day, sum(amount) AS net_sales FROM clean.order_lines"
        " WHERE country = :country GROUP BY 1 ORDER BY 1",
        country=country["country"],
    )
    assert list(days["Net sales"]) == [fmt.money(value) for value in per_day["net_sales"]]


def test_customers_shows_segments_grid_and_says_models_are_not_computed_yet(app, built: BuiltWarehouse):
    segments = built.frame("SELECT * FROM marts.rfm_segments ORDER BY customers DESC, segment")
    test = app("customers")
    table = test.dataframe[0].value
    assert list(table["Segment"]) == list(segments["segment"])
    assert list(table["Customers"]) == [fmt.count(v) for v in segments["customers"]]
    assert list(table["Spend (total)"]) == [fmt.money(v) for v in segments["total_monetary"]]
    assert len(test.get("vega_lite_chart")) == 2  # the R x F grid and the segment sizes
    infos = " ".join(texts(test.info))
    assert "Customer lifetime value: not computed yet" in infos
    assert "Next best actions: not computed yet" in infos


def _top_customer(built: BuiltWarehouse) -> pd.Series:
    return built.frame("SELECT * FROM marts.rfm_scores ORDER BY monetary DESC, customer_id LIMIT 1").iloc[0]


def test_customer_search_shows_scores_and_history(app, built: BuiltWarehouse):
    customer = _top_customer(built)
    invoices = built.frame(
        "SELECT count(DISTINCT invoice_no) AS n FROM clean.order_lines WHERE customer_id = :id",
        id=int(customer["customer_id"]),
    ).iloc[0]["n"]
    test = app("customers")
    test.text_input(key="customer_id").input(str(customer["customer_id"])).run()
    assert not test.exception
    assert f"**Customer {customer['customer_id']}**: {customer['segment']}" in " ".join(texts(test.markdown))
    assert_figures(
        test,
        {
            "Orders": fmt.count(customer["frequency"]),
            "Spend": fmt.money(customer["monetary"], 2),
            "Days since last order": fmt.count(customer["recency_days"]),
        },
    )
    history = test.dataframe[-1].value
    assert len(history) == invoices
    assert "Lifetime value and churn risk: not computed yet" in " ".join(texts(test.info))


@pytest.fixture
def scored_customer(built: BuiltWarehouse):
    """CLV, an action and recommendations for the top customer, written into the customer-intelligence marts
    (migration 010) as their assets would, and removed afterwards."""
    customer = _top_customer(built)
    customer_id = int(customer["customer_id"])
    top = built.frame("SELECT stock_code, description FROM marts.top_products ORDER BY rank LIMIT 3")
    with built.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO marts.customer_lifetime_value VALUES"
            " (%s, 3, 100, 200, 55.5, 1.25, 0.8, 0.35, 60.1, 1234.56, 90, '2011-01-01')",
            (customer_id,),
        )
        conn.exec_driver_sql(
            "INSERT INTO marts.customer_actions VALUES (%s, %s, 'loyalty_reward', 'A loyal big spender', 3,"
            " 0.35, 1234.56, 0.99, 1.25, 10, 12, %s, 90, '2011-01-01')",
            (customer_id, customer["segment"], list(top["stock_code"])),
        )
        for rank, (code, description) in enumerate(
            zip(top["stock_code"], top["description"], strict=True), 1
        ):
            conn.exec_driver_sql(
                "INSERT INTO marts.product_recommendations VALUES (%s, %s, %s, %s, %s, 'similarity')",
                (customer_id, rank, code, description, 1.0 / rank),
            )
    yield customer_id, top
    with built.engine.begin() as conn:
        for table in ("customer_lifetime_value", "customer_actions", "product_recommendations"):
            conn.exec_driver_sql(f"DELETE FROM marts.{table} WHERE customer_id = %s", (customer_id,))


def test_customer_page_fills_in_once_the_models_are_computed(app, built: BuiltWarehouse, scored_customer):
    customer_id, top = scored_customer
    clv = built.frame("SELECT * FROM marts.customer_lifetime_value WHERE customer_id = :id", id=customer_id)
    test = app("customers")
    assert metrics(test)["Customers valued"][0] == fmt.count(1)
    test.text_input(key="customer_id").input(str(customer_id)).run()
    shown = metrics(test)
    assert shown["12-month CLV"][0] == fmt.money_short(clv.iloc[0]["clv_12m"])
    assert any(f"12-month CLV {fmt.money(clv.iloc[0]['clv_12m'], 2)};" in c for c in texts(test.caption))
    assert shown["Churn risk"][0] == fmt.share(clv.iloc[0]["churn_risk"])
    assert any("Loyalty reward" in message for message in texts(test.success))
    recommended = next(frame.value for frame in test.dataframe if "Why" in frame.value.columns)
    assert list(recommended["Product"]) == list(top["stock_code"])
    assert "not computed yet" not in " ".join(texts(test.info))


def test_products_show_best_sellers_and_what_sells_with_the_top_product(app, built: BuiltWarehouse):
    products = built.frame("SELECT * FROM marts.top_products ORDER BY rank")
    test = app("products")
    best = test.expander[0].dataframe[0].value
    assert list(best["Product"]) == list(products["stock_code"])
    assert list(best["Net sales"]) == [fmt.money(v) for v in products["net_sales"]]

    lines = built.frame(
        "SELECT DISTINCT invoice_no, stock_code FROM clean.order_lines WHERE NOT is_cancellation"
        " AND NOT is_adjustment AND NOT is_non_product AND quantity > 0"
    )
    first = products.iloc[0]["stock_code"]
    baskets = set(lines.loc[lines["stock_code"] == first, "invoice_no"])
    others = lines[lines["invoice_no"].isin(baskets) & (lines["stock_code"] != first)]
    counts = others.groupby("stock_code").size()
    together = test.dataframe[-1].value
    # the ten largest counts, in order; ties may be listed in either collation's order of stock codes
    assert list(together["Orders with both"]) == [
        fmt.count(n) for n in counts.sort_values(ascending=False)[:10]
    ]
    for product, shown in zip(together["Product"], together["Orders with both"], strict=True):
        assert shown == fmt.count(counts[product]), product


def test_data_health_shows_the_ledger_and_open_alerts(app, built: BuiltWarehouse):
    from retail_platform.monitoring.alerts import Alert, raise_alert

    ledger = built.frame("SELECT sum(lines_loaded) AS loaded, sum(lines_rejected) AS rejected,"
                         " count(*) AS files FROM raw.file_loads").iloc[0]  # fmt: skip
    test = app("health")
    assert_figures(
        test,
        {
            "Lines loaded": fmt.count(ledger["loaded"]),
            "Lines rejected": fmt.count(ledger["rejected"]),
            "Files seen": fmt.count(ledger["files"]),
        },
    )
    assert "No failing checks" in texts(test.success)

    check = Alert("check_failure", "ERROR", "net sales do not reconcile", "marts/monthly_kpis", "reconcile")
    stale = Alert("stale_asset", "WARN", "not refreshed for 2 days", "marts/rfm_scores")
    ids = [raise_alert(built.engine, alert) for alert in (check, stale)]
    try:
        test = app("health")
        tables = [frame.value for frame in test.dataframe]
        assert any("reconcile" in set(frame.get("Check", [])) for frame in tables)
        assert any("marts/rfm_scores" in set(frame.get("Asset", [])) for frame in tables)
        assert "No failing checks" not in texts(test.success)
    finally:
        with built.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE ops.alerts SET resolved_at = now() WHERE alert_id = ANY(%s)", (ids,))
