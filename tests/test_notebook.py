"""examples/explore.ipynb runs top to bottom in a fresh kernel and is committed clean."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason='needs the "notebook" extra (nbformat)')
nbclient = pytest.importorskip("nbclient", reason='needs the "notebook" extra (nbclient)')
pytest.importorskip("ipykernel", reason='needs the "notebook" extra (ipykernel)')
pytest.importorskip("matplotlib", reason='the notebook plots: needs the "plot" extra')
pytest.importorskip("pandas", reason='the notebook builds DataFrames: needs the "pandas" extra')

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NOTEBOOK = EXAMPLES / "explore.ipynb"


def test_notebook_is_committed_without_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


def test_notebook_runs_top_to_bottom(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    monkeypatch.delenv("PYTHONWARNINGS", raising=False)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=600,
        resources={"metadata": {"path": str(EXAMPLES)}},
    )
    client.execute(cwd=os.fspath(EXAMPLES))  # raises CellExecutionError on any failing cell

    outputs = {
        cell.source.splitlines()[-1]: cell.outputs
        for cell in notebook.cells
        if cell.cell_type == "code"
    }
    errors = [o for outs in outputs.values() for o in outs if o.output_type == "error"]
    assert errors == []

    def data(line: str) -> dict[str, str]:
        results = [o for o in outputs[line] if o.output_type == "execute_result"]
        assert len(results) == 1, outputs[line]
        return dict(results[0]["data"])

    shown = data("result")
    assert shown["text/plain"].startswith("DocumentResult 'sample-policy-paper': 5 areas")
    assert "<table" in shown["text/html"] and "<details>" in shown["text/html"]
    assert "<mark" in data("energy")["text/html"]
    assert data("describe(quote)  # the text/plain form: one line")["text/plain"].startswith(
        ('"Quote (sentence ', "'Quote (sentence ")
    )
    assert "<mark" in data("HTML(highlight(text, result=result, standalone=False))")["text/html"]
    assert "text/html" in data('to_dataframe(results, level="quotes").head()')
    for line in (
        'plot_topics(results[:5], kind="bar")',
        'plot_topics(results, kind="heatmap", title="Share of sentences per topic")',
    ):
        figures = [o for o in outputs[line] if "image/png" in o.get("data", {})]
        assert len(figures) == 1, outputs[line]  # shown once, as the cell's value
