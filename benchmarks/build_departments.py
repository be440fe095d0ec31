#!/usr/bin/env python3
"""Build the shipped English/French department names (dedupe/departments_fr_en.tsv).

Usage: python benchmarks/build_departments.py [--shared ../shared/data]

Source: the Government of Canada's program and service inventories and Open Resource Exchange
records in `initiatives/initiatives.csv` (columns department, department_fr), published under the
Open Government Licence - Canada / MIT. Each French name is written with the English name it is
published with. Where one English name comes with several French names, a French name unlike
the commonest one (`dedupe.departments.fold`, similarity under 0.75) is a slip of the source and
is left out: "Commission de la fonction publique" once beside the Public Health Agency's 32
"Agence de la santé publique du Canada".

Acronyms. The English ones are read from the same file: the GC IT project records' ids carry
their department's acronym (`ca-itp-esdc-lms` is Employment and Social Development Canada's),
kept when the acronym names one department. The French ones (`FRENCH_ACRONYMS`) are written
here by hand from the departments' published French abbreviations, each with the English
acronym it stands beside; a French acronym that is another department's English one (CCG: the
grain commission in French, the Coast Guard in English) is left out. The UK and US departments
of the same file are named by their usual abbreviations too (`OTHER_ACRONYMS`, by hand: HMRC,
DWP, DHS, VA...), except where a Canadian department already has the letters (NRC).
"""

from __future__ import annotations

import argparse
import sys
from difflib import SequenceMatcher
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from dedupe.departments import NAMES_FILE, fold  # noqa: E402

OUT = REPO / "dedupe" / NAMES_FILE
FRENCH_ACRONYMS = {  # French acronym: the English acronym of the same department
    "AAC": "AAFC",
    "ACC": "VAC",
    "ACIA": "CFIA",
    "AMC": "GAC",
    "APECA": "ACOA",
    "ARC": "CRA",
    "ASFC": "CBSA",
    "ASPC": "PHAC",
    "BAC": "LAC",
    "BCP": "PCO",
    "BSIF": "OSFI",
    "CCSN": "CNSC",
    "CNRC": "NRC",
    "CRSH": "SSHRC",
    "CRSNG": "NSERC",
    "EDSC": "ESDC",
    "EFPC": "CSPS",
    "GRC": "RCMP",
    "ISDE": "ISED",
    "MDN": "DND",
    "MPO": "DFO",
    "RNCan": "NRCan",
    "SAC": "ISC",
    "SC": "HC",
    "SCC": "CSC",
    "SCT": "TBS",
    "SPAC": "PSPC",
    "SPC": "SSC",
}
ENGLISH_ONLY = {"ISC": "Indigenous Services Canada"}  # the ids name it with CIRNAC ("inac")
# UK and US departments of initiatives.csv by their usual abbreviations (written by hand; kept
# when the name is one of the file's departments and the acronym is no Canadian department's)
OTHER_ACRONYMS = {
    "MOD": "Ministry of Defence",
    "MOJ": "Ministry of Justice",
    "DFT": "Department for Transport",
    "DH": "Department of Health",
    "HO": "Home Office",
    "HMRC": "HM Revenue and Customs",
    "CO": "Cabinet Office",
    "DWP": "Department for Work and Pensions",
    "DFE": "Department for Education",
    "DHSC": "Department of Health and Social Care",
    "DEFRA": "Department for Environment, Food and Rural Affairs",
    "DCMS": "Department for Digital, Culture, Media and Sport",
    "DESNZ": "Department for Energy Security and Net Zero",
    "BEIS": "Department for Business, Energy and Industrial Strategy",
    "DLUHC": "Department for Levelling Up, Housing and Communities",
    "ONS": "Office for National Statistics",
    "BIS": "Department for Business, Innovation and Skills",
    "FCO": "Foreign and Commonwealth Office",
    "DECC": "Department of Energy and Climate Change",
    "DSIT": "Department for Science, Innovation and Technology",
    "FCDO": "Foreign, Commonwealth and Development Office",
    "NCA": "National Crime Agency",
    "DBT": "Department for Business and Trade",
    "DCLG": "Department for Communities and Local Government",
    "MHCLG": "Ministry of Housing, Communities and Local Government",
    "HMT": "HM Treasury",
    "CPS": "Crown Prosecution Service",
    "VOA": "Valuation Office Agency",
    "DOE": "Department of Energy",
    "GSA": "General Services Administration",
    "DHS": "Department of Homeland Security",
    "HHS": "Department of Health and Human Services",
    "EPA": "Environmental Protection Agency",
    "VA": "Department of Veterans Affairs",
    "SSA": "Social Security Administration",
    "DOT": "Department of Transportation",
    "DOD": "Department of Defense",
    "USDA": "Department of Agriculture",
    "DOL": "Department of Labor",
    "DOS": "Department of State",
    "NRC": "Nuclear Regulatory Commission",
    "NSF": "National Science Foundation",
    "DOJ": "Department of Justice",
    "DOI": "Department of the Interior",
    "OPM": "Office of Personnel Management",
    "SBA": "Small Business Administration",
    "NARA": "National Archives and Records Administration",
    "USACE": "U.S. Army Corps of Engineers",
    "NASA": "National Aeronautics and Space Administration",
    "HUD": "Department of Housing and Urban Development",
    "USAID": "U.S. Agency for International Development",
    "FEC": "Federal Election Commission",
}


def acronyms(frame: pd.DataFrame) -> list[tuple[str, str]]:
    """(acronym, English name) from the GC IT project ids, then the French acronyms."""
    itp = frame[frame["id"].str.startswith("ca-itp-")]
    found = itp.assign(acr=itp["id"].str.split("-").str[2].str.upper())
    names = found.groupby("acr")["department"].agg(lambda d: sorted(set(d)))
    english = {a: n[0] for a, n in names.items() if len(n) == 1 and "&" not in n[0]}
    english.update(ENGLISH_ONLY)
    pairs = [*english.items()]  # upper-cased: names are compared folded (`fold`)
    pairs += [
        (fr, english[en.upper()]) for fr, en in FRENCH_ACRONYMS.items() if en.upper() in english
    ]
    taken = {fold(a) for a in english}
    canadian = [(a, n) for a, n in pairs if a in english or fold(a) not in taken]
    taken |= {fold(a) for a, _ in canadian}
    known = set(frame["department"])
    return canadian + [
        (a, n) for a, n in OTHER_ACRONYMS.items() if n in known and fold(a) not in taken
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=str(REPO.parent / "shared" / "data"))
    args = ap.parse_args()
    src = Path(args.shared) / "initiatives" / "initiatives.csv"
    frame = pd.read_csv(src, dtype=str, keep_default_na=False)
    both = frame[(frame["department"] != "") & (frame["department_fr"] != "")]
    counts = both.groupby(["department", "department_fr"]).size().rename("n").reset_index()
    kept, dropped = [], []
    for english, group in counts.groupby("department"):
        commonest = fold(group.sort_values("n", ascending=False)["department_fr"].iat[0])
        for french, n in zip(group["department_fr"], group["n"], strict=True):
            alike = SequenceMatcher(None, fold(french), commonest).ratio() >= 0.75
            (kept if alike else dropped).append((french.strip(), english.strip(), n))
    kept = [(fr, en) for fr, en, _ in kept if fold(fr) != fold(en)]
    short = acronyms(frame)
    lines = [
        "# Other names (French names, acronyms) -> English Government of Canada department "
        "names for dedupe (built by benchmarks/build_departments.py).",
        "# Source: initiatives.csv (GC program and service inventories, Open Resource Exchange), "
        "columns department_fr and department; Open Government Licence - Canada / MIT.",
        *(f"{fr}\t{en}" for fr, en in sorted(kept, key=lambda p: (p[1], p[0]))),
        "# Acronyms: English ones from the GC IT project ids (ca-itp-<acronym>-...) in "
        "initiatives.csv; French ones, and the UK and US departments' usual abbreviations, "
        "written by hand (build_departments.FRENCH_ACRONYMS, OTHER_ACRONYMS).",
        *(f"{a}\t{en}" for a, en in sorted(short, key=lambda p: (p[1], p[0]))),
    ]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(
        f"wrote {OUT}: {len(kept)} names, {len(short)} acronyms; left out {dropped}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
