"""Recommendations pure code: cosine similarities and scores computed by hand, the popularity fallback, the
bounded-memory blocks giving the same answer, and hit rate at k on hand-made splits."""

import numpy as np
import pandas as pd
import pytest

from retail_platform.analytics import recommendations as recs
from retail_platform.analytics.evaluation import TimeSplit, hit_rate

# A, B and C bought x and y; C also z; D only x. E bought nothing. w is popular but nobody here bought it.
PAIRS = pd.DataFrame(
    [(1, "x"), (1, "y"), (2, "x"), (2, "y"), (3, "x"), (3, "y"), (3, "z"), (4, "x")],
    columns=["customer_id", "stock_code"],
)
POPULARITY = pd.Series({"w": 50.0, "x": 40.0, "y": 30.0, "z": 5.0})


def matrix(customers=None) -> recs.PurchaseMatrix:
    return recs.purchase_matrix(PAIRS, pd.Index(POPULARITY.index), customers)


def test_item_similarities_are_cosines_by_hand():
    similar = recs.item_neighbours(matrix().matrix, neighbours=3).toarray()
    w, x, y, z = range(4)
    assert similar[x, y] == pytest.approx(3 / np.sqrt(4 * 3))  # 3 common buyers of 4 and 3
    assert similar[x, z] == pytest.approx(1 / np.sqrt(4 * 1))
    assert similar[y, z] == pytest.approx(1 / np.sqrt(3 * 1))
    assert similar[x, x] == 0 and similar[w].sum() == 0


def test_neighbours_keep_only_the_most_similar():
    similar = recs.item_neighbours(matrix().matrix, neighbours=1).toarray()
    assert (similar > 0).sum(axis=1).tolist() == [0, 1, 1, 1]
    assert similar[3].argmax() == 2  # z's nearest is y (0.577 > 0.5)


def test_recommend_by_hand():
    result = recs.recommend(matrix(np.array([1, 2, 3, 4, 5])), POPULARITY, k=3, neighbours=3)
    d = result[result["customer_id"] == 4]
    # D has x: y scores 0.866, z 0.5, then the most popular product D lacks, w
    assert d["stock_code"].tolist() == ["y", "z", "w"]
    assert d["source"].tolist() == ["similarity", "similarity", "popularity"]
    assert d["score"].iloc[0] == pytest.approx(3 / np.sqrt(12))
    a = result[result["customer_id"] == 1]  # has x and y: z scores 0.5 + 0.577, then w
    assert a["stock_code"].tolist() == ["z", "w"]
    assert a["score"].iloc[0] == pytest.approx(0.5 + 1 / np.sqrt(3))
    e = result[result["customer_id"] == 5]  # no history: popularity alone
    assert e["stock_code"].tolist() == ["w", "x", "y"] and set(e["source"]) == {"popularity"}
    assert (
        result.groupby("customer_id")["rank"].apply(list)
        == result.groupby("customer_id")["rank"].apply(lambda r: list(range(1, len(r) + 1)))
    ).all()


def _random_purchases(seed: int, customers: int, products: int, lines: int):
    """Random (customer, product) purchase pairs, a random popularity per product, and their purchase matrix."""
    rng = np.random.default_rng(seed)
    pairs = pd.DataFrame(
        {
            "customer_id": rng.integers(0, customers, lines),
            "stock_code": rng.integers(0, products, lines).astype(str),
        }
    )
    popularity = pd.Series(
        rng.integers(1, 100, products).astype(float), index=[str(i) for i in range(products)]
    ).sort_index()
    return pairs, popularity, recs.purchase_matrix(pairs, pd.Index(popularity.index))


def test_never_recommends_what_was_bought():
    pairs, popularity, bought = _random_purchases(seed=2, customers=60, products=80, lines=900)
    result = recs.recommend(bought, popularity, k=10)
    assert result.groupby("customer_id").size().eq(10).all()
    assert result.merge(pairs.drop_duplicates(), on=["customer_id", "stock_code"]).empty
    assert not result.duplicated(["customer_id", "stock_code"]).any()


def test_small_blocks_give_the_same_recommendations():
    _, popularity, bought = _random_purchases(seed=4, customers=50, products=40, lines=600)
    whole = recs.recommend(bought, popularity, neighbours=5)
    blocks = recs.recommend(bought, popularity, neighbours=5, block_cells=45)  # one row of 40 at a time
    pd.testing.assert_frame_equal(whole, blocks)


def test_hit_rate_by_hand():
    recommended = pd.DataFrame({"customer_id": [1, 1, 2, 3], "stock_code": ["a", "b", "c", "d"]})
    wanted = pd.DataFrame({"customer_id": [1, 2, 2, 4], "stock_code": ["b", "x", "y", "d"]})
    assert hit_rate(recommended, wanted) == (3, 1, pytest.approx(1 / 3))  # 1 hits; 2 and 4 miss


def test_evaluate_on_a_hand_made_split():
    cutoff = pd.Timestamp("2010-06-01")
    before, after = cutoff - pd.Timedelta(days=30), cutoff + pd.Timedelta(days=10)
    rows = [(c, p, before) for c, p in PAIRS.itertuples(index=False)]
    rows += [(4, "y", after), (1, "w", after)]  # D buys y (similarity's pick), A buys w (popularity's pick)
    pairs = pd.DataFrame(rows, columns=["customer_id", "stock_code", "first_purchase"])
    products = pd.DataFrame({"stock_code": POPULARITY.index, "invoices": POPULARITY.values})
    split = TimeSplit(cutoff + pd.Timedelta(days=90), 90)
    result = recs.evaluate(pairs, products, split, k=1, neighbours=3).set_index("method")
    # similarity: D's list is [y] (hit), A's is [z] (miss); popularity: D's [w], A's [w] (hit)
    assert result.loc["similarity", ["customers", "hits"]].tolist() == [2, 1]
    assert result.loc["popularity", ["customers", "hits"]].tolist() == [2, 1]
    assert result.loc["similarity", "hit_rate"] == pytest.approx(0.5)


def test_categorical_stock_codes_and_repeated_pairs_give_the_same_matrix():
    # the asset reads stock codes as categories (a category nobody in the columns has: "q"); a repeated pair
    # still counts once
    pairs = pd.concat([PAIRS, PAIRS.iloc[[0]], pd.DataFrame({"customer_id": [5], "stock_code": ["q"]})])
    typed = pairs.astype({"stock_code": "category"})
    plain = matrix(np.array([1, 2, 3, 4, 5]))
    for frame in (pairs, typed):
        built = recs.purchase_matrix(frame, pd.Index(POPULARITY.index), np.array([1, 2, 3, 4, 5]))
        assert (built.matrix != plain.matrix).nnz == 0
        assert built.matrix.max() == 1.0
    assert recs.purchase_matrix(typed).products.tolist() == ["q", "x", "y", "z"]
