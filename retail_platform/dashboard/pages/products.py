"""Products: the best sellers (marts.top_products) and what sells with what (marts.products_bought_together)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from retail_platform.dashboard import charts, data
from retail_platform.dashboard import formatting as fmt
from retail_platform.dashboard.layout import nothing_to_show, show_table

SHOWN = 20
TOGETHER = 10


def product_label(stock_code: str, description: object) -> str:
    return f"{stock_code} {description}" if isinstance(description, str) and description else stock_code


def _top_products(products: pd.DataFrame) -> None:
    top = products.head(SHOWN).assign(
        product=lambda f: [
            product_label(c, d) for c, d in zip(f["stock_code"], f["description"], strict=True)
        ]
    )
    st.markdown(f"**The {len(top)} best-selling products** by net sales")
    st.altair_chart(charts.ranked_bars(top, "net_sales", "product", "Net sales (£)"), width="stretch")
    with st.expander(f"All {len(products)} top products"):
        show_table(
            products,
            {
                "rank": ("#", fmt.count),
                "stock_code": "Product",
                "description": "Description",
                "net_sales": ("Net sales", fmt.money),
                "units_sold": ("Units", fmt.count),
                "invoices": ("Orders", fmt.count),
                "customers": ("Customers", fmt.count),
            },
        )


def _bought_together(products: pd.DataFrame) -> None:
    st.subheader("What sells with what")
    labels = {
        product_label(c, d): c for c, d in zip(products["stock_code"], products["description"], strict=True)
    }
    chosen = st.selectbox("Product", list(labels), key="product")
    stock_code = labels[chosen]
    together = data.frame("bought_together", stock_code=stock_code, limit=TOGETHER)
    if nothing_to_show(together, "This product has not been bought with another product yet."):
        return
    together["product"] = [
        product_label(c, d) for c, d in zip(together["stock_code"], together["description"], strict=True)
    ]
    st.caption(f"Products most often on the same orders as {chosen}")
    st.altair_chart(
        charts.ranked_bars(together, "invoices_together", "product", "Orders with both", money=False),
        width="stretch",
    )
    show_table(
        together,
        {
            "stock_code": "Product",
            "description": "Description",
            "invoices_together": ("Orders with both", fmt.count),
            "share_of_orders": (f"Share of {stock_code}'s orders", fmt.share),
        },
    )


def render() -> None:
    st.title("Products")
    products = data.frame("top_products")
    if nothing_to_show(products, "No product sales loaded yet."):
        return
    _top_products(products)
    _bought_together(products)
    st.caption("Net sales are net of cancellations; postage, fees and other non-product codes are left out.")


if __name__ == "__main__":
    render()
