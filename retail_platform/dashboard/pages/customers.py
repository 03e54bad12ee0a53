"""Customers: the RFM grid and segments (marts.rfm_scores, marts.rfm_segments), lifetime value and next best
actions (marts.customer_lifetime_value, marts.customer_actions) and a customer search with the customer's
history, scores, CLV, churn risk, action and recommended products (marts.product_recommendations).

The customer-intelligence marts may not exist yet: each part that needs one says "not computed yet" until the
table exists and has rows, and fills in from then on without a change here.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from retail_platform.dashboard import charts, data
from retail_platform.dashboard import formatting as fmt
from retail_platform.dashboard.layout import show_table

CLV, RECOMMENDATIONS, ACTIONS = "customer_lifetime_value", "product_recommendations", "customer_actions"
NOT_COMPUTED = "not computed yet"


def not_computed(what: str) -> None:
    st.info(
        f"{what}: {NOT_COMPUTED}. It appears here once the platform has built it.",
        icon=":material/hourglass_empty:",
    )


def _segments() -> None:
    segments = data.frame("rfm_segments")
    if segments.empty or not segments["customers"].sum():
        st.info("No customers scored yet.")
        return
    left, right = st.columns(2)
    with left:
        st.markdown("**RFM grid**: customers by recency and frequency score")
        st.altair_chart(charts.rfm_grid(data.frame("rfm_grid")), width="stretch")
    with right:
        st.markdown("**Customers per segment**")
        st.altair_chart(charts.segments(segments[segments["customers"] > 0]), width="stretch")
    show_table(
        segments,
        {
            "segment": "Segment",
            "customers": ("Customers", fmt.count),
            "share_of_customers": ("Share", fmt.share),
            "mean_recency_days": ("Days since last order (mean)", fmt.count),
            "mean_frequency": ("Orders (mean)", fmt.decimal),
            "mean_monetary": ("Spend (mean)", fmt.money),
            "total_monetary": ("Spend (total)", fmt.money),
        },
    )


def _models(models: set[str]) -> None:
    """Lifetime value and next best actions over all customers, or 'not computed yet'."""
    left, right = st.columns(2)
    with left:
        st.markdown("**Customer lifetime value**")
        summary = data.row("clv_summary") if CLV in models else None
        if summary is None or not summary["customers"]:
            not_computed("Customer lifetime value")
        else:
            first, second, third = st.columns(3)
            first.metric("Customers valued", fmt.count(summary["customers"]))
            second.metric(
                "12-month CLV (total)",
                fmt.money_short(summary["total_clv_12m"]),
                help=fmt.money(summary["total_clv_12m"]),
            )
            third.metric("Churn risk (mean)", fmt.share(summary["mean_churn_risk"]))
            st.caption(f"As of {fmt.day_label(summary['snapshot_date'])}")
    with right:
        st.markdown("**Next best actions**")
        actions = data.frame("action_summary") if ACTIONS in models else pd.DataFrame()
        if actions.empty:
            not_computed("Next best actions")
        else:
            actions["action"] = actions["action"].map(fmt.label)
            st.altair_chart(
                charts.ranked_bars(actions, "customers", "action", "Customers", money=False), width="stretch"
            )


def _profile(customer_id: int, models: set[str]) -> None:
    rfm = data.row("customer_rfm", customer_id=customer_id)
    invoices = data.frame("customer_invoices", customer_id=customer_id)
    if rfm is None and invoices.empty:
        st.warning(f"No customer {customer_id} in the warehouse.")
        return
    if rfm is not None:
        st.markdown(f"**Customer {customer_id}**: {rfm['segment']} (RFM {rfm['rfm_score']})")
        cells = st.columns(3)
        cells[0].metric("Days since last order", fmt.count(rfm["recency_days"]))
        cells[1].metric("Orders", fmt.count(rfm["frequency"]))
        cells[2].metric("Spend", fmt.money(rfm["monetary"], 2))
        st.caption(
            f"Scores: recency {rfm['r_score']}, frequency {rfm['f_score']}, monetary {rfm['m_score']} (5 = best); "
            f"last order {fmt.day_label(rfm['last_purchase'])}"
        )
    else:
        st.markdown(f"**Customer {customer_id}**: no purchases to score (only cancellations or returns)")
    _model_figures(customer_id, models)
    if not invoices.empty:
        st.markdown("**History**: spend per month, net of cancellations")
        st.altair_chart(charts.customer_history(invoices), width="stretch")
        show_table(
            invoices,
            {
                "invoice_no": "Invoice",
                "invoice_date": ("Date", fmt.day_label),
                "country": "Country",
                "lines": ("Lines", fmt.count),
                "units": ("Units", fmt.count),
                "amount": ("Amount", lambda v: fmt.money(v, 2)),
            },
        )


def _model_figures(customer_id: int, models: set[str]) -> None:
    """The customer's CLV, churn risk, next best action and recommendations, or 'not computed yet'."""
    left, right = st.columns(2)
    with left:
        clv = data.row("customer_clv", customer_id=customer_id) if CLV in models else None
        if clv is None:
            not_computed("Lifetime value and churn risk")
        else:
            cells = st.columns(3)
            cells[0].metric(
                "12-month CLV", fmt.money_short(clv["clv_12m"]), help=fmt.money(clv["clv_12m"], 2)
            )
            cells[1].metric("Churn risk", fmt.share(clv["churn_risk"]))
            cells[2].metric("Expected orders", f"{clv['expected_purchases']:,.1f}")
            st.caption(
                f"12-month CLV {fmt.money(clv['clv_12m'], 2)}; probability still active "
                f"{fmt.share(clv['probability_alive'])}; expected order value "
                f"{fmt.money(clv['expected_order_value'], 2)}; churn = no order in the next "
                f"{fmt.count(clv['horizon_days'])} days"
            )
        action = data.row("customer_action", customer_id=customer_id) if ACTIONS in models else None
        if action is None:
            not_computed("Next best action")
        else:
            st.success(f"**Next best action: {fmt.label(action['action'])}**. {action.get('reason', '')}")
    with right:
        recommended = (
            data.frame("customer_recommendations", customer_id=customer_id)
            if RECOMMENDATIONS in models
            else pd.DataFrame()
        )
        if recommended.empty:
            not_computed("Recommended products")
        else:
            st.markdown("**Recommended products**")
            show_table(
                recommended,
                {
                    "rank": ("#", fmt.count),
                    "stock_code": "Product",
                    "description": "Description",
                    "source": "Why",
                },
            )


def _search(models: set[str]) -> None:
    st.subheader("Find a customer")
    typed = st.text_input("Customer ID", key="customer_id", placeholder="e.g. 13085")
    if not typed.strip():
        top = data.frame("top_customers")
        if not top.empty:
            st.caption("Type a customer ID. The customers who spent most:")
            show_table(
                top,
                {
                    "customer_id": "Customer ID",
                    "segment": "Segment",
                    "frequency": ("Orders", fmt.count),
                    "monetary": ("Spend", fmt.money),
                    "recency_days": ("Days since last order", fmt.count),
                },
            )
        return
    try:
        customer_id = int(typed.strip().removesuffix(".0"))
    except ValueError:
        st.warning(f"{typed!r} is not a customer ID (a whole number).")
        return
    _profile(customer_id, models)


def render() -> None:
    st.title("Customers")
    models = data.present_models()
    st.subheader("Segments")
    _segments()
    st.subheader("Value and actions")
    _models(models)
    _search(models)


if __name__ == "__main__":
    render()
