#!/usr/bin/env python3
"""Draw the sample portfolios shipped in the repo from the shared public data.

Writes (deterministic, seed 7):
  data/sample/initiatives_sample.csv  ~2,800 real rows of initiatives.csv (same columns, text untouched)
  tests/data/mini_portfolio.csv       ~200 real rows + one derived French "twin" row (see tests/data/README.md)

Usage: python data/make_sample.py [--shared ../shared/data]
(--shared defaults to ../shared/data next to the repository root.)
"""
from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

SEED = 7
REPO = Path(__file__).resolve().parent.parent

# Known cross-department families (initiatives/README.md); always kept.
FAMILY_SUFFIXES = ("-eti", "-etir", "-gcpm", "-lms")
FAMILY_IDS = (
    "ca-itp-cbsa-biometric-expansion", "ca-itp-rcmp-biometric-expansion", "ca-itp-ircc-bep",
    "ca-itp-pco-scnl", "ca-itp-dnd-scnl", "ca-itp-cse-scnl",
    "ca-itp-hc-mtss", "ca-itp-inac-mtss", "ca-itp-inac-fnihb-mtss",
    "ca-svc-1301-2023-2024", "ca-svc-2936-2023-2024",
    "uk-gmpp-uk-gigabit-programme", "uk-gmpp-project-gigabit",
    "uk-gmpp-no2-programme", "uk-gmpp-no2-reduction",
    "us-itd-021-542850483-1256", "us-itd-422-000000032-1598", "us-itd-009-000006338-2205",
    "us-itd-021-542850483-1265", "us-itd-202-000002016-2068",
    "us-codegov-dhs-00081", "us-codegov-doe-06842", "us-codegov-dhs-00256", "us-codegov-gsa-08734",
    "ca-prog-ND-BYY01", "ca-prog-FO-BTI01",
)

# Rows drawn at random per source (after the required rows); None = keep the whole source.
SAMPLE_QUOTA: dict[str, int | None] = {
    "ca_gc_it_projects": None,
    "ca_gc_programs": 200,
    "ca_gc_services": 300,
    "ca_ore_code": None,
    "uk_gmpp": 250,
    "us_codegov": 600,
    "us_itdashboard_2012": 300,
}
DOE_CAP = 300  # DOE CODE lists every software version; keep it from dominating us_codegov

MINI_QUOTA = {
    "ca_gc_it_projects": 60, "ca_gc_programs": 25, "ca_gc_services": 30, "ca_ore_code": 10,
    "uk_gmpp": 20, "us_codegov": 20, "us_itdashboard_2012": 15,
}
MINI_FAMILY_SUFFIXES = ("-eti", "-etir", "-gcpm", "-lms")
MINI_EXTRA_IDS = ("ca-itp-rcmp-eticketing-e", "ca-svc-1301-2023-2024", "ca-svc-2936-2023-2024",
                  "ca-prog-ND-BYY01", "ca-prog-FO-BTI01")
BILINGUAL_ID = "ca-prog-HRSD-BGM04"  # Enabling Accessibility Fund (ESDC), EN+FR program


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def required_ids(ini: pd.DataFrame, pairs: pd.DataFrame) -> set[str]:
    ids = set(ini.loc[ini["id"].str.endswith(FAMILY_SUFFIXES) & ini["id"].str.startswith("ca-itp-"), "id"])
    ids |= set(FAMILY_IDS)
    pos = pairs[(pairs["pair_type"] == "ca_itp_shared_code_cross_dept") & (pairs["label"] == "1")]
    ids |= set(pos["id_a"]) | set(pos["id_b"])
    return ids & set(ini["id"])


def draw(pool: pd.DataFrame, n: int | None, seed: int) -> pd.DataFrame:
    if n is None or n >= len(pool):
        return pool
    return pool.sample(n=n, random_state=seed)


def sample_portfolio(ini: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    keep = required_ids(ini, pairs)
    parts = [ini[ini["id"].isin(keep)]]
    rest = ini[~ini["id"].isin(keep)]
    for source, quota in SAMPLE_QUOTA.items():
        pool = rest[rest["source"] == source]
        if source == "us_codegov" and quota is not None:
            doe = pool["department"] == "Department of Energy"
            parts.append(draw(pool[doe], DOE_CAP, SEED))
            parts.append(draw(pool[~doe], quota - DOE_CAP, SEED))
        else:
            parts.append(draw(pool, quota, SEED))
    out = pd.concat(parts)
    return ini[ini["id"].isin(set(out["id"]))]  # original order, no duplicates


def mini_portfolio(ini: pd.DataFrame) -> pd.DataFrame:
    fam = ini["id"].str.startswith("ca-itp-") & ini["id"].str.endswith(MINI_FAMILY_SUFFIXES)
    keep = set(ini.loc[fam, "id"]) | set(MINI_EXTRA_IDS) | {BILINGUAL_ID}
    rest = ini[~ini["id"].isin(keep)]
    for source, quota in MINI_QUOTA.items():
        keep |= set(draw(rest[rest["source"] == source], quota, SEED)["id"])
    mini = ini[ini["id"].isin(keep)]
    rec = ini.loc[ini["id"] == BILINGUAL_ID].iloc[0]
    twin = rec.copy()
    twin["id"] = f"{rec['id']}-fr-twin"
    twin["department"] = rec["department_fr"] or rec["department"]
    twin["title"] = rec["title_fr"]
    twin["description"] = rec["description_fr"]
    twin["title_fr"] = ""
    twin["description_fr"] = ""
    twin["language"] = "fr"
    return pd.concat([mini, twin.to_frame().T], ignore_index=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    args = ap.parse_args()
    ini = read_csv(args.shared / "initiatives" / "initiatives.csv")
    pairs = read_csv(args.shared / "pairs_gov_initiatives" / "gov_pairs.csv")

    sample = sample_portfolio(ini, pairs)
    sample_path = REPO / "data" / "sample" / "initiatives_sample.csv"
    sample_path.parent.mkdir(parents=True, exist_ok=True)
    sample.to_csv(sample_path, index=False)

    mini = mini_portfolio(ini)
    mini_path = REPO / "tests" / "data" / "mini_portfolio.csv"
    mini_path.parent.mkdir(parents=True, exist_ok=True)
    mini.to_csv(mini_path, index=False)

    counts = ", ".join(f"{k}={v}" for k, v in sample["source"].value_counts().sort_index().items())
    print(f"sample: {len(sample)} rows ({counts}); mini: {len(mini)} rows")


if __name__ == "__main__":
    main()
