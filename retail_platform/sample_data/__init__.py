"""Deterministic synthetic sample data in the shape of the UCI Online Retail II export (SPEC §2)."""

from retail_platform.sample_data.generator import (
    CANONICAL_COLUMNS,
    HEADER_SPELLINGS,
    iter_sample_chunks,
    write_sample,
)

__all__ = ["CANONICAL_COLUMNS", "HEADER_SPELLINGS", "iter_sample_chunks", "write_sample"]
