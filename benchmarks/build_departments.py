#!/usr/bin/env python3
"""Build the shipped English/French department names (dedupe/departments_fr_en.tsv).

Usage: python benchmarks/build_departments.py [--shared ../shared/data]

Source: the Government of Canada's program and service inventories and Open Resource Exchange
records in `initiatives/initiatives.csv` (columns department, department_fr), published under the
Open Government Licence - Canada / MIT. Each French name is written with the English name it is
published with; a department with two French spellings gets both.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dedupe.departments import NAMES_FILE  # noqa: E402

OUT = REPO / "dedupe" / NAMES_FILE


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=str(REPO.parent / "shared" / "data"))
    args = ap.parse_args()
    src = Path(args.shared) / "initiatives" / "initiatives.csv"
    frame = pd.read_csv(src, dtype=str, keep_default_na=False)
    names = (
        frame.loc[
            (frame["department"] != "") & (frame["department_fr"] != ""),
            ["department_fr", "department"],
        ]
        .apply(lambda c: c.str.strip())
        .drop_duplicates()
        .sort_values(["department", "department_fr"])
    )
    names = names[names["department_fr"].str.lower() != names["department"].str.lower()]
    lines = [
        "# French -> English Government of Canada department names for dedupe "
        "(built by benchmarks/build_departments.py).",
        "# Source: initiatives.csv (GC program and service inventories, Open Resource Exchange), "
        "columns department_fr and department; Open Government Licence - Canada / MIT.",
        *(f"{fr}\t{en}" for fr, en in names.itertuples(index=False)),
    ]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {OUT}: {len(names)} names", file=sys.stderr)


if __name__ == "__main__":
    main()
