"""The next-best-action rules (sql/transforms/marts/customer_actions.sql) on hand-made scores, one customer per
rule, and the web application's view over them, on real PostgreSQL."""

from datetime import datetime

import pandas as pd
from sqlalchemy import text

from retail_platform_tests.marts import fetch, run_transforms

SNAPSHOT = datetime(2010, 12, 10)

# customer: (segment, recency_days, purchase days, t, churn_risk, clv_12m); clv ranks 1..n by customer id order
CUSTOMERS = {
    # rule 1: churn 0.6 and the highest CLV (top 20%)
    101: ("At Risk", 120, 5, 300, 0.60, 9_000),
    # rule 2: churn 0.9 and a low CLV
    102: ("Hibernating", 300, 1, 300, 0.90, 100),
    # rule 3: a Champion, low risk
    103: ("Champions", 2, 12, 350, 0.10, 5_000),
    # rule 4: one purchase day, first one 20 days ago (t <= horizon)
    104: ("New Customers", 20, 1, 20, 0.70, 300),
    # rule 5: churn 0.55, middling value, not new
    105: ("About to Sleep", 60, 3, 200, 0.55, 1_000),
    # rule 6: active, none of the above
    106: ("Potential Loyalists", 10, 4, 150, 0.20, 2_000),
    # a Champion at high risk and in the top 20% of value: rule 1 comes first
    107: ("Champions", 40, 20, 360, 0.51, 8_000),
}
EXPECTED = {
    101: (1, "win_back_offer"),
    102: (2, "no_contact"),
    103: (3, "loyalty_reward"),
    104: (4, "second_purchase_nudge"),
    105: (5, "retention_reminder"),
    106: (6, "product_campaign"),
    107: (1, "win_back_offer"),
}


def seed_marts(engine) -> None:
    with engine.begin() as conn:
        for customer, (segment, recency, purchase_days, t, risk, value) in CUSTOMERS.items():
            conn.execute(
                text(
                    "INSERT INTO marts.rfm_scores VALUES (:c, :recency, :days, 100, 3, 3, 3, '333', :segment,"
                    " :last, :snapshot)"
                ),
                {"c": customer, "recency": recency, "days": purchase_days, "segment": segment,
                 "last": SNAPSHOT, "snapshot": SNAPSHOT},
            )  # fmt: skip
            conn.execute(
                text(
                    "INSERT INTO marts.customer_lifetime_value VALUES (:c, :freq, :rec, :t, :mon, 1.5, 0.9,"
                    " :risk, 50, :value, 90, :snapshot)"
                ),
                {"c": customer, "freq": purchase_days - 1, "rec": 0 if purchase_days == 1 else 10, "t": t,
                 "mon": 0 if purchase_days == 1 else 40, "risk": risk, "value": value, "snapshot": SNAPSHOT},
            )  # fmt: skip
            for rank in range(1, 5):
                conn.execute(
                    text(
                        "INSERT INTO marts.product_recommendations VALUES (:c, :rank, :code, 'ITEM', :score,"
                        " 'similarity')"
                    ),
                    {"c": customer, "rank": rank, "code": f"P{customer}{rank}", "score": 5 - rank},
                )


def test_each_rule_and_its_reason(engine):
    seed_marts(engine)
    run_transforms(engine, "marts.customer_actions")
    actions = fetch(engine, "SELECT * FROM marts.customer_actions ORDER BY customer_id").set_index(
        "customer_id"
    )
    assert {c: (int(r.rule), r.action) for c, r in actions.iterrows()} == EXPECTED
    assert actions.loc[101, "reason"].startswith(
        "Valuable customer slipping away: 12-month CLV £9,000 (top 15%)"
    )
    assert "60% chance of no purchase in the next 90 days" in actions.loc[101, "reason"]
    assert "90%" in actions.loc[102, "reason"] and "£100" in actions.loc[102, "reason"]
    assert actions.loc[103, "reason"].startswith("Champions: bought on 12 days, last 2 days ago")
    assert "20 days ago" in actions.loc[104, "reason"]
    assert actions.loc[106, "recommended_stock_codes"] == ["P1061", "P1062", "P1063"]
    # clv_percentile: share of customers with a lower CLV (percent_rank): 7 customers, 9,000 is the highest
    assert actions.loc[101, "clv_percentile"] == 1.0 and actions.loc[102, "clv_percentile"] == 0.0


def test_webapp_view(engine):
    seed_marts(engine)
    run_transforms(engine, "marts.customer_actions")
    view = fetch(engine, "SELECT * FROM marts.webapp_next_best_actions ORDER BY customer_id")
    assert view["customer_id"].tolist() == sorted(CUSTOMERS)
    assert list(view.columns) == [
        "customer_id", "action", "reason", "segment", "churn_risk", "clv_12m", "expected_purchases",
        "horizon_days", "recommended_stock_codes", "recommended_products", "scored_at",
    ]  # fmt: skip
    products = view.set_index("customer_id").loc[103, "recommended_products"]
    assert [p["stock_code"] for p in products] == ["P1031", "P1032", "P1033", "P1034"]
    assert products[0] == {"rank": 1, "stock_code": "P1031", "description": "ITEM", "source": "similarity"}


def test_no_scores_no_actions(engine):
    run_transforms(engine, "marts.customer_actions")
    assert fetch(engine, "SELECT count(*) AS n FROM marts.customer_actions")["n"].iloc[0] == 0
    assert isinstance(fetch(engine, "SELECT * FROM marts.webapp_next_best_actions"), pd.DataFrame)
