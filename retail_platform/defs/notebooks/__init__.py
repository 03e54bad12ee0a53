"""The analysis notebook as an asset: executed on the warehouse, rendered to HTML beside the charts."""
