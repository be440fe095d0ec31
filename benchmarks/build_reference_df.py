#!/usr/bin/env python3
"""Build the shipped reference document frequencies (dedupe/match/reference_df.tsv.gz).

A portfolio of a few dozen records reads its own domain words as rare: in twenty records
"inspection" or "paie" weighs like a code name, and two same-domain proposals look alike on
words alone. `LexicalModel.fit(reference=...)` lends such a portfolio the document frequencies
of a large reference for the records it lacks (`dedupe.match.idf.REFERENCE_RECORDS`). This
script counts them: every term of the TF-IDF analyser (words and word pairs) in the English and
the French text of the public initiatives in `initiatives/initiatives.csv` (one document each),
kept when it is in at least `--min-df` documents. Every record of the held-out evaluation split
(`build/eval`, written by `build_eval_sets.py`) is left out, as for the lexicon.

Usage: python benchmarks/build_reference_df.py [--shared ../shared/data] [--eval build/eval]

Source: initiatives.csv (Government of Canada, UK and US initiative inventories and code
inventories; Open Government Licence - Canada, Open Government Licence v3.0, US public domain,
MIT); only counts of terms are shipped.
"""

from __future__ import annotations

import argparse
import gzip
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from build_eval_sets import read_csv as read  # noqa: E402
from build_lexicon import held_out_ids  # noqa: E402

from dedupe.match.idf import REFERENCE_FILE  # noqa: E402
from dedupe.match.lexical import _analyzer  # noqa: E402
from dedupe.records import Proposal  # noqa: E402
from dedupe.text import normalize_text  # noqa: E402

OUT = REPO / "dedupe" / "match" / REFERENCE_FILE


def documents(frame) -> list[str]:  # type: ignore[no-untyped-def]
    """Each record's English text and, when it has one, its French text."""
    out = []
    for lang in ("", "_fr"):
        for title, desc in zip(frame[f"title{lang}"], frame[f"description{lang}"], strict=True):
            text = Proposal(normalize_text(title), normalize_text(desc)).text  # as embedded
            if text:
                out.append(text)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("--eval", default=str(REPO / "build" / "eval"))
    ap.add_argument("--min-df", type=int, default=4)
    args = ap.parse_args()
    ev = Path(args.eval)
    if not (ev / "pairs_holdout.csv").exists():
        raise SystemExit(f"{ev}: run benchmarks/build_eval_sets.py first (the held-out ids)")
    frame = read(Path(args.shared) / "initiatives" / "initiatives.csv")
    frame = frame[~frame["id"].isin(held_out_ids(ev))]
    docs = documents(frame)
    df: Counter[str] = Counter()
    for text in docs:
        df.update(set(_analyzer(text)))
    kept = sorted((t, n) for t, n in df.items() if n >= args.min_df)
    lines = [
        "# Reference document frequencies for dedupe's TF-IDF (built by "
        "benchmarks/build_reference_df.py): term, documents.",
        "# Source: initiatives.csv, English and French texts, held-out evaluation records "
        "left out; OGL-Canada, OGL v3.0, US public domain, MIT.",
        f"#documents\t{len(docs)}",
        *(f"{t}\t{n}" for t, n in kept),
    ]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    OUT.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))  # the same bytes each build
    print(
        f"wrote {OUT}: {len(kept)} terms of {len(df)} (in >= {args.min_df} of {len(docs)} "
        f"documents from {len(frame)} records)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
