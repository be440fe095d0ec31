"""The `dedupe` command line: parse, call the library, format, exit code.

Exit codes: 0 success / nothing flagged; 1 bad input or data error; 2 usage error;
3 `check` flagged at least one duplicate or overlap; 4 `report` written but a source failed.
"""

from __future__ import annotations

import typer

# Each command module registers itself on `app` when imported.
from dedupe.cli import calibrate as _calibrate  # noqa: E402,F401
from dedupe.cli import check as _check  # noqa: E402,F401
from dedupe.cli import evaluate as _evaluate  # noqa: E402,F401
from dedupe.cli import ingest as _ingest  # noqa: E402,F401
from dedupe.cli import report as _report  # noqa: E402,F401
from dedupe.cli import review as _review  # noqa: E402,F401
from dedupe.cli.common import app


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main", "typer"]
