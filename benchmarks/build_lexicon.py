#!/usr/bin/env python3
"""Build the shipped French → English lexicon (dedupe/match/lexicon_fr_en.tsv).

Usage: python benchmarks/build_lexicon.py [--eval build/eval] [--shared ../shared/data]

Parallel documents: the Government of Canada's programs (active and inactive), services
(2023-24 and 2018-19) and Open Resource Exchange records, each published with an English and a
French title and description (initiatives.csv, gc_programs.csv, gc_services_2018_2019.csv),
plus the distinct department and core-responsibility names. Every record of the held-out
evaluation split (pairs, queries and their expected records, from `build_eval_sets.py`'s
output, which must exist) is left out, so the held-out figures never see a lexicon learned
from their own texts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from build_eval_sets import read_csv as read  # noqa: E402

from dedupe.match.bilingual import LEXICON_FILE, learn_lexicon  # noqa: E402

OUT = REPO / "dedupe" / "match" / LEXICON_FILE


def held_out_ids(ev: Path) -> set[str]:
    pairs = read(ev / "pairs_holdout.csv")
    queries = read(ev / "queries_holdout.csv")
    meta = read(ev / "queries_meta.csv")
    out = set(pairs["id_a"]) | set(pairs["id_b"])
    out |= set(meta.loc[meta["split"] == "holdout", "source_id"])
    for ids in queries["expected_ids"]:
        out |= set(filter(None, ids.split(";")))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--eval", default=str(REPO / "build" / "eval"))
    ap.add_argument("--shared", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("--min-dice", type=float, default=0.25)
    ap.add_argument("--min-count", type=int, default=3)
    args = ap.parse_args()
    shared, ev = Path(args.shared), Path(args.eval)
    if not (ev / "pairs_holdout.csv").exists():
        raise SystemExit(f"{ev}: run benchmarks/build_eval_sets.py first (the held-out ids)")
    excluded = held_out_ids(ev)
    excluded_services = {i.split("-")[2] for i in excluded if i.startswith("ca-svc-")}

    ini = read(shared / "initiatives" / "initiatives.csv")
    ini = ini[(ini["description_fr"] != "") & ~ini["id"].isin(excluded)]
    old = read(shared / "ca_gc_service_inventory" / "gc_services_2018_2019.csv")
    old = old[~old["service_id"].isin(excluded_services) & (old["description_fr"] != "")]
    programs = read(shared / "ca_gc_programs" / "gc_programs.csv")
    inactive = programs[
        ~programs["id"].isin(set(ini["id"]) | excluded) & (programs["description_fr"] != "")
    ]
    english = list(ini["title"] + " . " + ini["description"])
    english += list(old["title_en"] + " . " + old["description_en"])
    english += list(inactive["title_en"] + " . " + inactive["description_en"])
    french = list(ini["title_fr"] + " . " + ini["description_fr"])
    french += list(old["title_fr"] + " . " + old["description_fr"])
    french += list(inactive["title_fr"] + " . " + inactive["description_fr"])
    # short parallel names, each distinct pair once: departments, core responsibilities
    names = pd.concat(
        [
            programs[["department_en", "department_fr"]].set_axis(["en", "fr"], axis=1),
            programs[["core_responsibility_en", "core_responsibility_fr"]].set_axis(
                ["en", "fr"], axis=1
            ),
            ini[["department", "department_fr"]].set_axis(["en", "fr"], axis=1),
        ]
    ).drop_duplicates()
    names = names[(names["en"] != "") & (names["fr"] != "") & (names["en"] != names["fr"])]
    english += list(names["en"])
    french += list(names["fr"])
    source = (
        f"French -> English word lexicon for dedupe (built by benchmarks/build_lexicon.py).\n"
        f"Learned from {len(english)} bilingual Government of Canada texts: program and "
        f"service inventories (TBS, Open Government Licence - Canada / MIT), Open Resource "
        f"Exchange (MIT), department and core-responsibility names; {len(excluded)} held-out "
        f"evaluation records left out.\n"
        f"Dice coefficient over documents >= {args.min_dice}, co-occurring in >= "
        f"{args.min_count} documents; each French word with its best English word."
    )
    lexicon = learn_lexicon(
        english, french, min_dice=args.min_dice, min_count=args.min_count, source=source
    )
    OUT.write_text(lexicon.to_tsv(), encoding="utf-8")
    print(f"{len(english)} parallel records, {len(excluded)} held-out ids left out")
    print(f"wrote {OUT}: {len(lexicon)} French words")


if __name__ == "__main__":
    main()
