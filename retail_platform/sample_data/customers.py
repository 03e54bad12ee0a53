"""The customer pool: ids, home countries, purchase intensity and the fortnights each customer is active.

Why it depends on the number of rows and not on the chunking: a bigger sample has more customers (as a longer
real export would), but the same sample cut into other chunks must have the same customers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from retail_platform.sample_data.calibration import (
    FOREIGN_P,
    MAX_CUSTOMER_ID,
    MIN_CUSTOMER_ID,
    UK,
    UK_CUSTOMER_SHARE,
)

BUCKETS = 26  # fortnights: customers join and churn at this granularity


@dataclass(frozen=True)
class Customers:
    ids: np.ndarray  # int64
    country: np.ndarray  # index into COUNTRIES
    # Per fortnight, cumulative purchase weights of the customers active then (inverse-CDF sampling).
    bucket_cdf: np.ndarray  # float64 (buckets, customers)

    def pick(self, bucket: np.ndarray, u: np.ndarray) -> np.ndarray:
        """The customer (pool index) each uniform draw ``u`` picks among those active in its ``bucket``."""
        cust = np.empty(len(bucket), dtype=np.int64)
        for b in np.unique(bucket):
            sel = bucket == b
            found = np.searchsorted(self.bucket_cdf[b], u[sel], side="right")
            cust[sel] = np.minimum(found, len(self.ids) - 1)
        return cust


def customer_count(rows: int) -> int:
    """Pool size: ~4,000 of ~6,000 buy in 500k lines (real: 4,383); fewer in small samples; capped by ids."""
    n = round(6000 * (max(rows, 1) / 500_000) ** 0.75)
    return int(min(max(n, 20), MAX_CUSTOMER_ID - MIN_CUSTOMER_ID + 1))


def customer_pool(rows: int, seed: int) -> Customers:
    """The customers of a ``rows``-line sample for ``seed``."""
    n = customer_count(rows)
    rng = np.random.default_rng([seed, 0xC057, n])
    ids = np.sort(rng.choice(MAX_CUSTOMER_ID - MIN_CUSTOMER_ID + 1, size=n, replace=False) + MIN_CUSTOMER_ID)
    foreign = 1 + rng.choice(len(FOREIGN_P), size=n, p=FOREIGN_P)
    country = np.where(rng.random(n) < UK_CUSTOMER_SHARE, UK, foreign).astype(np.int64)
    # Skewed purchase intensity: many one-off buyers, a few wholesale whales.
    intensity = rng.lognormal(0.0, 1.15, n)
    # Lifetimes: most customers are there from the start; others join later; some churn.
    joins = np.where(rng.random(n) < 0.6, 0.0, rng.random(n))
    leaves = np.where(rng.random(n) < 0.75, 1.0, joins + rng.random(n) * (1.0 - joins))
    joins[0], leaves[0] = 0.0, 1.0  # never an empty fortnight
    mid = (np.arange(BUCKETS) + 0.5) / BUCKETS
    active = (joins[None, :] <= mid[:, None]) & (mid[:, None] <= leaves[None, :])
    cdf = np.cumsum(np.where(active, intensity[None, :], 0.0), axis=1)
    cdf /= cdf[:, -1:]
    return Customers(ids=ids, country=country, bucket_cdf=cdf)
