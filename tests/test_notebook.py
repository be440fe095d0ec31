"""`notebooks/quality.ipynb` is executed so the quality evaluation never rots."""

from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.e2e
def test_quality_notebook_runs(tmp_path: Path) -> None:
    nb = nbformat.read(ROOT / "notebooks" / "quality.ipynb", as_version=4)
    os.environ["DEDUPE_ROOT"] = str(ROOT)
    start = time.monotonic()
    NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT / "notebooks")}},
    ).execute()
    elapsed = time.monotonic() - start
    outputs = "".join(
        str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )
    assert "Traceback" not in outputs and "recall_at_5" in outputs
    assert elapsed < 240, f"notebook took {elapsed:.0f}s"
