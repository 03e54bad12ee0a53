"""Product recommendations from item-to-item co-purchase similarity, with a popularity fallback (SPEC 4.5).

Pure numpy/scipy: the asset reads who bought what (``sql/queries/recommendation_customer_products.sql``) and
the products' popularity (``recommendation_products.sql``) and hands them here.

The model (item-to-item collaborative filtering, as Linden, Smith & York describe Amazon's):

- ``X`` is the customers x products 0/1 matrix of "has bought" (scipy sparse);
- the similarity of two products is the cosine of their columns: customers who bought both, over the
  square root of the product of their buyer counts; each product keeps only its ``neighbours`` most
  similar products;
- a customer's score for a product they have not bought is the sum of its similarities to the products they
  have bought; the ``k`` best positive scores are their list (source ``similarity``), and popular products
  they lack fill the rest (source ``popularity``; all of it for customers with no similar products).

Memory is bounded whatever the number of products: ``X^T X`` is never formed whole. Similarities are
computed for a block of products at a time and cut to their top neighbours, and scores for a block of
customers at a time; each block's dense scratch holds at most ``block_cells`` floats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from retail_platform.analytics.evaluation import TimeSplit, hit_rate

RECOMMENDATION_COLUMNS = ("customer_id", "rank", "stock_code", "description", "score", "source")
DEFAULT_K = 10
DEFAULT_NEIGHBOURS = 20
BLOCK_CELLS = 1_000_000  # 8 MB of float64 scratch per block (a few such arrays are alive at once)


@dataclass(frozen=True)
class PurchaseMatrix:
    """``matrix[i, j] = 1`` when ``customers[i]`` bought ``products[j]``."""

    matrix: sparse.csr_matrix
    customers: np.ndarray
    products: np.ndarray


def purchase_matrix(
    pairs: pd.DataFrame, products: pd.Index | None = None, customers: np.ndarray | None = None
) -> PurchaseMatrix:
    """The 0/1 matrix of ``pairs`` (customer_id, stock_code; the stock codes may be categorical, as the
    asset reads them). ``products`` fixes the columns and ``customers`` the rows (pairs of others are left
    out; customers without pairs get empty rows); by default every product and customer in ``pairs``.
    Repeated pairs count once."""
    if products is None:
        products = pd.Index(np.sort(np.asarray(pairs["stock_code"].unique(), dtype=object)))
    customer_ids = pairs["customer_id"].to_numpy(dtype="int64")
    if customers is None:
        customers = np.unique(customer_ids)
    rows = pd.Index(np.asarray(customers, dtype="int64"))
    row = rows.get_indexer(customer_ids)
    column = _positions(pairs["stock_code"], products)
    kept = (row >= 0) & (column >= 0)
    if not kept.all():
        row, column = row[kept], column[kept]
    del kept
    data = np.ones(len(row), dtype="float64")
    shape = (len(rows), len(products))
    matrix = sparse.coo_matrix((data, (row.astype(np.int32), column.astype(np.int32))), shape=shape).tocsr()
    matrix.data[:] = 1.0  # the conversion summed repeated pairs
    return PurchaseMatrix(matrix, rows.to_numpy(), np.asarray(products, dtype=object))


def _positions(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Where each value is in ``index`` (-1: not there). Categorical values look up each category once."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        by_category = index.get_indexer(values.cat.categories)
        codes = values.cat.codes.to_numpy()
        return np.where(codes >= 0, by_category[codes], -1)
    return index.get_indexer(values)


def _block(rows: int, columns: int, block_cells: int) -> int:
    return max(1, min(rows, block_cells // max(columns, 1)))


def item_neighbours(
    matrix: sparse.csr_matrix, neighbours: int = DEFAULT_NEIGHBOURS, block_cells: int = BLOCK_CELLS
) -> sparse.csr_matrix:
    """products x products cosine similarities, each row cut to its ``neighbours`` largest (self excluded)."""
    by_product = sparse.csc_matrix(matrix).T.tocsr()  # products x customers
    n_products = by_product.shape[0]
    buyers = np.asarray(by_product.sum(axis=1)).ravel()
    norms = np.sqrt(np.maximum(buyers, 1.0))
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    values: list[np.ndarray] = []
    keep = min(neighbours, max(n_products - 1, 0))
    step = _block(n_products, n_products, block_cells)
    for start in range(0, n_products, step):
        stop = min(start + step, n_products)
        together = (by_product[start:stop] @ by_product.T).toarray()  # block x products: common buyers
        similarity = together / norms[start:stop, None] / norms[None, :]
        similarity[np.arange(stop - start), np.arange(start, stop)] = 0.0
        if keep == 0:
            continue
        top = np.argpartition(-similarity, keep - 1, axis=1)[:, :keep]
        top_values = np.take_along_axis(similarity, top, axis=1)
        positive = top_values > 0
        rows.append(np.repeat(np.arange(start, stop), keep)[positive.ravel()])
        cols.append(top[positive])
        values.append(top_values[positive])
    if not rows:
        return sparse.csr_matrix((n_products, n_products))
    return sparse.csr_matrix(
        (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))), shape=(n_products, n_products)
    )


def _top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the columns of the ``k`` largest scores, best first (ties: lower column first)."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -part_scores), axis=1)
    columns = np.take_along_axis(part, order, axis=1)
    return columns, np.take_along_axis(scores, columns, axis=1)


def recommend(
    bought: PurchaseMatrix,
    popularity: pd.Series,
    k: int = DEFAULT_K,
    neighbours: int = DEFAULT_NEIGHBOURS,
    block_cells: int = BLOCK_CELLS,
) -> pd.DataFrame:
    """For each customer of ``bought``, ``k`` products they have not bought: by co-purchase similarity, then
    by ``popularity`` (stock_code -> distinct invoices; the products that may be recommended, and the
    columns of ``bought``). Returns customer_id, rank (1..k), stock_code, score, source."""
    products = np.asarray(bought.products, dtype=object)
    if not pd.Index(products).equals(pd.Index(popularity.index)):
        raise ValueError("the purchase matrix's columns must be the popularity's products, in the same order")
    similar = item_neighbours(bought.matrix, neighbours, block_cells).T.tocsr()  # (bought i) -> (candidate j)
    pop = popularity.to_numpy(dtype="float64")
    by_popularity = np.lexsort((np.arange(len(pop)), -pop))
    k = min(k, len(products))
    if k < 1:
        raise ValueError("k must be at least 1 and there must be products to recommend")
    frames = []
    step = _block(bought.matrix.shape[0], len(products), block_cells)
    for start in range(0, bought.matrix.shape[0], step):
        block = bought.matrix[start : start + step]
        scores = (block @ similar.T).toarray() if similar.nnz else np.zeros(block.shape)
        scores[block.nonzero()] = -np.inf  # never what they already have
        columns, values = _top_k(scores, k)
        frames.append(
            _fill_with_popular(block, columns, values, by_popularity, pop, k, bought.customers[start:])
        )
    if not frames:
        return pd.DataFrame(columns=[c for c in RECOMMENDATION_COLUMNS if c != "description"])
    result = pd.concat(frames, ignore_index=True)
    result["stock_code"] = products[result.pop("column").to_numpy()]
    return result


def _fill_with_popular(
    block: sparse.csr_matrix,
    columns: np.ndarray,
    values: np.ndarray | None,
    by_popularity: np.ndarray,
    pop: np.ndarray,
    k: int,
    customers: np.ndarray,
) -> pd.DataFrame:
    """Each row's positive similarity picks, then the most popular products it lacks, up to ``k``."""
    out_customer, out_rank, out_column, out_score, out_source = [], [], [], [], []
    for row in range(block.shape[0]):
        picked = [int(c) for c, v in zip(columns[row], values[row], strict=True) if v > 0]
        taken = set(picked) | set(block.indices[block.indptr[row] : block.indptr[row + 1]].tolist())
        fill = []
        for candidate in by_popularity:
            if len(picked) + len(fill) >= k:
                break
            if int(candidate) not in taken:
                fill.append(int(candidate))
        scores = [float(values[row][i]) for i in range(len(picked))] + [float(pop[c]) for c in fill]
        chosen = picked + fill
        out_customer += [int(customers[row])] * len(chosen)
        out_rank += list(range(1, len(chosen) + 1))
        out_column += chosen
        out_score += scores
        out_source += ["similarity"] * len(picked) + ["popularity"] * len(fill)
    return pd.DataFrame(
        {
            "customer_id": np.asarray(out_customer, dtype="int64"),
            "rank": np.asarray(out_rank, dtype="int64"),
            "column": np.asarray(out_column, dtype="int64"),
            "score": np.asarray(out_score, dtype="float64"),
            "source": out_source,
        }
    )


def most_popular(bought: PurchaseMatrix, popularity: pd.Series, k: int = DEFAULT_K) -> pd.DataFrame:
    """The baseline: each customer's ``k`` most popular products they have not bought."""
    pop = popularity.to_numpy(dtype="float64")
    by_popularity = np.lexsort((np.arange(len(pop)), -pop))
    no_picks = np.empty((bought.matrix.shape[0], 0), dtype="int64")
    frame = _fill_with_popular(
        bought.matrix, no_picks, no_picks.astype(float), by_popularity, pop, k, bought.customers
    )
    frame["stock_code"] = np.asarray(bought.products, dtype=object)[frame.pop("column").to_numpy()]
    return frame


def popularity_series(products: pd.DataFrame) -> pd.Series:
    """stock_code -> distinct invoices, sorted by stock code (the purchase matrix's column order)."""
    series = pd.Series(
        products["invoices"].to_numpy(dtype="float64"),
        index=products["stock_code"].astype(str),
        name="invoices",
    )
    return series.sort_index(kind="stable")


def with_descriptions(recommended: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """The mart's rows: recommendations with each product's description."""
    descriptions = products.set_index("stock_code")["description"]
    out = recommended.copy()
    out["description"] = out["stock_code"].map(descriptions)
    return out.loc[:, list(RECOMMENDATION_COLUMNS)]


def evaluate(
    pairs: pd.DataFrame,
    calibration_products: pd.DataFrame,
    split: TimeSplit,
    k: int = DEFAULT_K,
    neighbours: int = DEFAULT_NEIGHBOURS,
    block_cells: int = BLOCK_CELLS,
) -> pd.DataFrame:
    """Hit rate at ``k`` on the time split (SPEC 4.5), for the recommender and for popularity alone.

    The recommender sees only what was bought before the cutoff and the popularity counted before it
    (``calibration_products``). Customers: those with a calibration purchase who bought, in the holdout, a
    product they had never bought before; a hit is one such product in their list.
    """
    first = pd.to_datetime(pairs["first_purchase"])
    popularity = popularity_series(calibration_products)
    calibration = pairs.loc[first < split.cutoff, ["customer_id", "stock_code"]]
    bought = purchase_matrix(calibration, pd.Index(popularity.index))
    del calibration
    new = pairs[split.in_holdout(first) & pairs["customer_id"].isin(bought.customers)]
    rows = []
    for method, recommended in (
        ("similarity", recommend(bought, popularity, k, neighbours, block_cells)),
        ("popularity", most_popular(bought, popularity, k)),
    ):
        customers, hits, rate = hit_rate(recommended, new)
        rows.append((method, k, customers, hits, rate))
    frame = pd.DataFrame(rows, columns=["method", "k", "customers", "hits", "hit_rate"])
    frame["calibration_end"] = split.cutoff
    frame["snapshot_date"] = pd.Timestamp(split.snapshot)
    frame["horizon_days"] = split.horizon_days
    return frame
