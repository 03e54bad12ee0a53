"""Executing a notebook in a fresh kernel (nbclient) and rendering it to HTML (nbconvert).

The warehouse URL reaches the kernel through its environment (``RETAIL_WAREHOUSE_URL``), never as a notebook
parameter: a password in the URL would otherwise be written into the executed notebook and its HTML.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

ANALYSIS_NOTEBOOK = "analysis.ipynb"
CELL_TIMEOUT_SECONDS = 600


def packaged_notebook(name: str = ANALYSIS_NOTEBOOK) -> Path:
    """A notebook shipped in the package (``retail_platform/notebooks/``; ``notebooks/`` in the checkout)."""
    return Path(str(files("retail_platform") / "notebooks" / name))


@dataclass(frozen=True)
class RenderedNotebook:
    executed: Path
    html: Path
    code_cells: int
    summary: str


def _summary(notebook: nbformat.NotebookNode) -> str:
    """The last Markdown output of the notebook (its summary cell), for the asset's metadata."""
    for cell in reversed(notebook.cells):
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/markdown")
            if text:
                return text if isinstance(text, str) else "".join(text)
    return ""


def run_notebook(
    source: Path, out_dir: Path, env: dict[str, str], stem: str | None = None
) -> RenderedNotebook:
    """Execute ``source`` with ``env`` as the kernel's environment; write ``<stem>.ipynb`` (also when a cell
    fails, for the post-mortem) and ``<stem>.html`` into ``out_dir``."""
    stem = stem or source.stem
    out_dir.mkdir(parents=True, exist_ok=True)
    notebook = nbformat.read(source, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=CELL_TIMEOUT_SECONDS,
        resources={"metadata": {"path": str(out_dir)}},
    )
    kernel_env = {key: value for key, value in {**os.environ, **env}.items() if key != "MPLBACKEND"}
    executed = out_dir / f"{stem}.ipynb"
    try:
        client.execute(env=kernel_env)
    finally:
        nbformat.write(notebook, executed)
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(notebook)
    html = out_dir / f"{stem}.html"
    html.write_text(body, encoding="utf-8")
    code_cells = sum(cell.cell_type == "code" for cell in notebook.cells)
    return RenderedNotebook(executed, html, code_cells, _summary(notebook))
