#!/usr/bin/env python3
"""Build evaluation sets for `dedupe` from the shared public data (deterministic).

Usage: python benchmarks/build_eval_sets.py [OUT_DIR] [--shared ../shared/data] [--seed 13]

Writes into OUT_DIR (default build/eval/, not committed):
  portfolio.csv        canonical columns, from initiatives.csv minus the held-out "new" records
  queries_tune.csv     intake-like queries (query_id,title,description,department,language,
  queries_holdout.csv    expected_ids,expected_owner_emails); lists are ';'-separated; no ids
                         = genuinely new proposal
  queries_meta.csv     per query: kind, group, split, source_id (record the query text came from)
  pairs_tune.csv       gov_pairs.csv split by group, plus ca_services_cross_year_en_fr: each
  pairs_holdout.csv      services pair again with one side (at random) in French

Intake realism (added for the quality work; deterministic from the seed):
  * family queries use the source record's own id as query_id, so `check` excludes that record
    ("an indexed initiative checked again") instead of letting it take a top-5 slot;
  * in the held-out split, half of the family_same_text queries become short notes (title + first
    clause, at most ~20 words) against the members' long descriptions;
  * administrative footers (priority, privacy assessment, gate, funding source, cost range; EN or
    FR) are appended to a share of ALL queries (new ones too) and of the portfolio's IT-project and
    UK records, so shared footers cannot be what matches;
  * en_to_fr: N_EN_TO_FR bilingual records are stored in French in the portfolio and queried with
    their English text (the FR->EN direction is fr_bilingual / fr_reworded).

Query kinds:
  family_reworded   another year's wording of a member of a cross-department family; expected = the
                    other family members (the member itself is not: see queries_meta.source_id;
                    another phase in the same department is), completed by title and by the
                    pooled judgements in benchmarks/family_judgements.csv
  family_same_text  as above when no other wording exists (the member's own text)
  fr_bilingual      French title/description of a bilingual record; expected = that record
  fr_reworded       French 2018/2019 wording of a service; expected = its 2023-24 record
  short_note        a one-line note (title, optionally sub-organisation); expected = that record
  en_to_fr          English text of a record stored in French in the portfolio; expected = it
  new               a distinctive record removed from portfolio.csv; expected = none
  new_twin          a "new" record judged to duplicate portfolio records after all (pooled
                    judgements, benchmarks/new_judgements.csv); expected = those records

Tune/holdout split is by group (family, else record), shared by queries and pairs, so no family is
in both splits: the README families (shipped in data/sample and tests, hence "seen") go to tune, the
other families are balanced by size, other groups and random negative pairs are split at random.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer

from dedupe.records import CANONICAL_FIELDS

REPO = Path(__file__).resolve().parent.parent
JUDGEMENTS = Path(__file__).resolve().parent / "family_judgements.csv"
NEW_JUDGEMENTS = Path(__file__).resolve().parent / "new_judgements.csv"
CANONICAL = [*CANONICAL_FIELDS, "url", "source"]
QUERY_COLS = [
    "query_id",
    "title",
    "description",
    "department",
    "language",
    "expected_ids",
    "expected_owner_emails",
]
HOLDOUT_SHARE = 0.5

# Cross-department families noted in the shared READMEs (in addition to the curators' short codes).
EXTRA_FAMILIES: dict[str, list[str]] = {
    "biometric-expansion": [
        "ca-itp-cbsa-biometric-expansion",
        "ca-itp-rcmp-biometric-expansion",
        "ca-itp-ircc-bep",
    ],
    "mtss": ["ca-itp-hc-mtss", "ca-itp-inac-mtss", "ca-itp-inac-fnihb-mtss"],
    "clean-growth-hub": ["ca-svc-1301-2023-2024", "ca-svc-2936-2023-2024"],
    "uk-gigabit": ["uk-gmpp-uk-gigabit-programme", "uk-gmpp-project-gigabit"],
    "uk-no2": ["uk-gmpp-no2-programme", "uk-gmpp-no2-reduction"],
    "uk-genomes": [
        "uk-gmpp-100-000-genomes-project",
        "uk-gmpp-100000-genomes-project",
        "uk-gmpp-one-hundred-thousand-genomes-project",
    ],
    "uk-holocaust-memorial": [
        "uk-gmpp-uk-holocaust-memorial-and-learning-centre",
        "uk-gmpp-uk-holocaust-memorial-learning-centre-programme",
    ],
    "us-fdcci": [
        "us-itd-021-542850483-1256",
        "us-itd-422-000000032-1598",
        "us-itd-009-000006338-2205",
    ],
    "us-ipv6": ["us-itd-021-542850483-1265", "us-itd-202-000002016-2068"],
    "us-cset": ["us-codegov-dhs-00081", "us-codegov-doe-06842"],
    "us-nessus-ansible": ["us-codegov-dhs-00256", "us-codegov-gsa-08734"],
}
# Families named in initiatives/README.md: in data/sample, the demo proposals and the tests,
# so they are "seen" and always go to the tune split.
SEEN_FAMILIES = {
    "eti",
    "gcpm",
    "lms",
    "biometric-expansion",
    "scnl",
    "mtss",
    "clean-growth-hub",
    "uk-gigabit",
    "uk-no2",
    "us-fdcci",
    "us-ipv6",
    "us-cset",
    "us-nessus-ansible",
}
# Same text in two departments but explainably NOT a duplicate (machinery-of-government transfer):
# kept in the portfolio, never used as a query.
EXCLUDED_IDS = {"ca-prog-ND-BYY01", "ca-prog-FO-BTI01"}

N_FR_BILINGUAL = 90
N_FR_REWORDED = 30
N_SHORT_NOTE = 100
N_EN_TO_FR = 40
FOOTER_QUERY_SHARE = 0.4  # queries given an intake-tool footer
FOOTER_PORTFOLIO_SHARE = 0.3  # IT-project / UK portfolio records given one
FOOTER_SOURCES = {"ca_gc_it_projects", "uk_gmpp"}
NEW_SHARE = 0.2  # share of all queries that are genuinely new
TWIN_SIM = 0.5  # a record with a neighbour above this cosine is not "unique"
NEW_MAX_SIM = 0.25  # held-out "new" records: no neighbour above this cosine


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def norm(text: str) -> str:
    return " ".join(text.lower().split())


def families(ini: pd.DataFrame, pairs: pd.DataFrame) -> dict[str, str]:
    """id -> family name; short-code families from gov_pairs merged with EXTRA_FAMILIES."""
    pos = pairs[(pairs["pair_type"] == "ca_itp_shared_code_cross_dept") & (pairs["label"] == "1")]
    groups: dict[str, set[str]] = {}
    for key, g in pos.groupby("group_key"):
        groups[str(key)] = set(g["id_a"]) | set(g["id_b"])
    for name, ids in EXTRA_FAMILIES.items():
        groups.setdefault(name, set()).update(ids)
    known = set(ini["id"])
    fam: dict[str, str] = {}
    for name in sorted(groups):  # merge families sharing an id (first name wins)
        members = groups[name] & known
        owner = next((fam[i] for i in sorted(members) if i in fam), name)
        for i in members:
            fam[i] = owner
    return fam


def complete_by_title(ini: pd.DataFrame, fam: dict[str, str]) -> dict[str, str]:
    """Add to a family every other record whose normalised title is the title of at least two
    of its members (the short-code rule misses a member filed under another code, e.g. ESDC's
    `GCdocs` as `esdc-edrms-gcdocs`: 7 records in 6 families; an unlabelled twin in a query's
    top 5 counted against recall_at_5). Used for the family queries' expected ids only: the
    splits, the queries drawn and the portfolio stay those of the short-code families."""
    title = dict(zip(ini["id"], ini["title"].map(norm), strict=True))
    by_family: dict[str, dict[str, int]] = {}
    for i, f in fam.items():
        counts = by_family.setdefault(f, {})
        counts[title[i]] = counts.get(title[i], 0) + 1
    family_of_title = {
        t: f
        for f, counts in sorted(by_family.items())
        for t, n in counts.items()
        if n >= 2 and len(t) >= 4
    }
    out = dict(fam)
    for i in ini["id"]:
        f = family_of_title.get(title[i])
        if f is not None and i not in out:
            out[i] = f
    return out


def judged_members(members: dict[str, list[str]], path: Path = JUDGEMENTS) -> dict[str, list[str]]:
    """Add the records judged `same` in `family_judgements.csv` to their family.

    The short-code and title rules miss members filed under another code and title (AAFC's
    "Workload Migration Initiative" as `aafc-wmi`, a department's GCdocs under its own project
    name): unlabelled twins in a query's top 5 counted against recall_at_5 and, in the tune
    split, taught the scorer that a true twin is a negative. The judgements are pooled, as in
    TREC: for every family query of both splits, the top 5 of three rankings (scorer v4, dense
    cosine, TF-IDF) that were not labelled were read and judged from the texts alone: `same`
    (another instance of the family's initiative), `related` (same domain, another problem) or
    `no`; only `same` is added. A record may be judged into two families (a GCdocs deployment is
    in `edrms` and in `gcdocs`); a record of another government than all of a family's members
    was judged `related` at most. Like `complete_by_title`, this changes the family queries'
    expected ids only."""
    out = {f: list(ids) for f, ids in members.items()}
    for row in read_csv(path).itertuples(index=False):
        if row.judgement == "same" and row.family in out and row.id not in out[row.family]:
            out[row.family].append(row.id)
    return {f: sorted(ids) for f, ids in out.items()}


def new_twins(path: Path = NEW_JUDGEMENTS) -> dict[str, list[str]]:
    """Held-out "new" record id -> the portfolio records judged `same` as it."""
    out: dict[str, list[str]] = {}
    for row in read_csv(path).itertuples(index=False):
        if row.judgement == "same":
            out.setdefault(row.source_id, []).append(row.id)
    return {k: sorted(v) for k, v in out.items()}


def max_neighbour_similarity(texts: pd.Series) -> np.ndarray:
    """Highest TF-IDF cosine of each text to any other text."""
    mat = TfidfVectorizer(sublinear_tf=True, min_df=2, stop_words="english").fit_transform(texts)
    out = np.zeros(mat.shape[0])
    for start in range(0, mat.shape[0], 2000):
        block = (mat[start : start + 2000] @ mat.T).toarray()
        for k in range(block.shape[0]):
            block[k, start + k] = 0.0
        out[start : start + 2000] = block.max(axis=1)
    return out


FOOTERS_EN = [
    "Priority: {p}. Privacy impact assessment: {pia}. Gate: {g}. Funding source: {f}. Cost range: {c}.",  # noqa: E501
    "Priority: {p} | Gate: {g} | Funding source: {f} | Cost range: {c} | PIA: {pia}",
    "Business priority: {p}. Estimated cost: {c}. Funding source: {f}. Risk level: {r}. Gate: {g}.",
]
FOOTERS_FR = [
    "Priorité : {pfr}. Évaluation des facteurs relatifs à la vie privée : {piafr}. Porte : {g}. "
    "Source de financement : {ffr}. Fourchette de coûts : {c}.",
    "Priorité : {pfr} | Source de financement : {ffr} | Fourchette de coûts : {c} | Niveau de risque : {rfr}",  # noqa: E501
]


def footer(rng: np.random.Generator, language: str) -> str:
    pick = lambda xs: xs[int(rng.integers(len(xs)))]  # noqa: E731
    i = int(rng.integers(3))
    values = {
        "p": ["High", "Medium", "Low"][i],
        "pfr": ["Élevée", "Moyenne", "Faible"][i],
        "pia": pick(["completed", "not started", "in progress", "not required"]),
        "piafr": pick(["terminée", "non commencée", "en cours", "non requise"]),
        "g": pick(["0", "1", "2", "3", "2 - planning", "3 - execution"]),
        "f": pick(["A-base", "Budget 2023", "cost recovery", "TB submission", "reallocation"]),
        "ffr": pick(["services votés", "Budget 2023", "recouvrement des coûts", "réaffectation"]),
        "c": pick(["$1M-$5M", "$5M-$10M", "under $1M", "$10M-$25M", "$250K-$1M"]),
        "r": pick(["low", "medium", "high"]),
        "rfr": pick(["faible", "moyen", "élevé"]),
    }
    return pick(FOOTERS_FR if language == "fr" else FOOTERS_EN).format(**values)


def short_note(title: str, description: str) -> str:
    """A one-line intake note: the first clause of the description, at most ~20 words."""
    first = description.replace(";", ".").split(". ")[0]
    words = first.split()
    return " ".join(words[:20]).rstrip(",.") + ("…" if len(words) > 20 else ".")


def joined(values: Iterable[str]) -> str:
    return ";".join(dict.fromkeys(v for v in values if v))


def cross_language_pairs(
    pairs: pd.DataFrame,
    holdout: pd.Series,
    ini: pd.DataFrame,
    svc_old: pd.DataFrame,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, pd.Series]:
    """`pairs` plus a `ca_services_cross_year_en_fr` copy of every English services pair (positives:
    another year's wording; negatives: another service) with one side's title, text and
    department in French; each copy keeps its source pair's split."""
    fr: dict[str, tuple[str, str, str]] = {}
    dept_fr = dict(zip(ini["id"], ini["department_fr"], strict=True))
    for r in ini[ini["description_fr"] != ""].itertuples(index=False):
        fr[r.id] = (r.title_fr, r.description_fr, r.department_fr)
    for r in svc_old[svc_old["description_fr"] != ""].itertuples(index=False):
        fr[r.id] = (r.title_fr, r.description_fr, dept_fr.get(r.new_id, ""))
    src = pairs[
        (pairs["pair_type"] == "ca_services_same_id_cross_year") & (pairs["language"] == "en")
    ]
    rows, where = [], []
    for (i, r), side in zip(src.iterrows(), rng.integers(0, 2, len(src)), strict=True):
        s = "ab"[side]
        if r[f"id_{s}"] not in fr:
            continue
        title, text, dept = fr[r[f"id_{s}"]]
        row = r.copy()
        row["pair_id"] = f"{r['pair_id']}-{s}fr"
        row["pair_type"] = "ca_services_cross_year_en_fr"
        row[f"title_{s}"], row[f"text_{s}"] = title, text
        row[f"dept_{s}"] = dept or r[f"dept_{s}"]
        row["language"] = "en-fr"
        rows.append(row)
        where.append(bool(holdout.loc[i]))
    extra = pd.DataFrame(rows, columns=pairs.columns)
    return (
        pd.concat([pairs, extra], ignore_index=True),
        pd.Series([*holdout.tolist(), *where]),
    )


def build(shared: Path, out: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    ini = read_csv(shared / "initiatives" / "initiatives.csv")
    pairs = read_csv(shared / "pairs_gov_initiatives" / "gov_pairs.csv")
    itp_years = read_csv(shared / "ca_gc_it_projects" / "gc_it_projects_by_year.csv")
    uk_years = read_csv(shared / "uk_gmpp" / "uk_gmpp_by_year.csv")
    svc_old = read_csv(shared / "ca_gc_service_inventory" / "gc_services_2018_2019.csv")

    fam = families(ini, pairs)
    rec = ini.set_index("id", drop=False)
    sim = pd.Series(
        max_neighbour_similarity(ini["title"] + " " + ini["description"]).round(4), index=ini["id"]
    )
    title_count = ini["title"].map(norm).map(ini["title"].map(norm).value_counts())
    unique_title = pd.Series(title_count.to_numpy() == 1, index=ini["id"])

    # Other wordings of one record: earliest differing year (IT projects, UK), 2018/19 (services).
    alt: dict[str, tuple[str, str]] = {}
    for frame, key in ((itp_years, "project_id"), (uk_years, "project_id")):
        for row in frame.sort_values(["report_year", "id"]).itertuples(index=False):
            pid = getattr(row, key)
            if (
                pid in rec.index
                and pid not in alt
                and norm(row.description) != norm(rec.at[pid, "description"])
                and len(row.description) >= 40
            ):
                alt[pid] = (row.title, row.description)
    svc_old = svc_old.assign(new_id="ca-svc-" + svc_old["service_id"] + "-2023-2024")
    for row in svc_old.sort_values(["report_year", "id"]).itertuples(index=False):
        if (
            row.new_id in rec.index
            and row.new_id not in alt
            and norm(row.description_en) != norm(rec.at[row.new_id, "description"])
        ):
            alt[row.new_id] = (row.title_en, row.description_en)

    queries: list[dict[str, str]] = []

    def add(
        kind: str,
        source_id: str,
        title: str,
        description: str,
        department: str,
        language: str,
        expected: list[str],
    ) -> None:
        queries.append(
            {
                "kind": kind,
                "source_id": source_id,
                "self_id": source_id if kind.startswith("family") else "",
                "title": title,
                "description": description,
                "department": department,
                "language": language,
                "expected_ids": joined(expected),
                "expected_owner_emails": joined(rec.loc[expected, "owner_contact"])
                if expected
                else "",
                "group": fam.get(source_id, source_id),
            }
        )

    # (a) family members, re-worded where possible; expected = the other members. Which members
    # are queried is decided on the title-completed families (another department's member must
    # exist), so the judgements change expected ids only, never the queries drawn.
    def by_family(fams: dict[str, str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for i, f in sorted(fams.items()):
            out.setdefault(f, []).append(i)
        return out

    members = by_family(fam)
    titled = complete_by_title(ini, fam)
    titled_members = by_family(titled)
    complete = judged_members(titled_members)
    families_of: dict[str, list[str]] = {}  # a record judged into a second family has both
    for f, ids in complete.items():
        for i in ids:
            families_of.setdefault(i, []).append(f)
    for f, ids in sorted(members.items()):
        for i in ids:
            dept = rec.at[i, "department"]
            if all(rec.at[j, "department"] == dept for j in titled_members[f]):
                continue
            expected = sorted({j for g in families_of[i] for j in complete[g]} - {i})
            if i in alt:
                add("family_reworded", i, alt[i][0], alt[i][1], dept, "en", expected)
            else:
                add(
                    "family_same_text",
                    i,
                    rec.at[i, "title"],
                    rec.at[i, "description"],
                    dept,
                    "en",
                    expected,
                )

    # Records usable as single-answer queries: not in a family, no near-identical twin anywhere.
    free = ini[
        ~ini["id"].isin(fam.keys())
        & ~ini["id"].isin(EXCLUDED_IDS)
        & (ini["id"].map(sim) < TWIN_SIM)
    ]
    used: set[str] = set()

    def pick(pool: pd.DataFrame, n: int) -> pd.DataFrame:
        pool = pool[~pool["id"].isin(used)]
        chosen = pool.sample(n=min(n, len(pool)), random_state=int(rng.integers(1 << 31)))
        used.update(chosen["id"])
        return chosen.sort_values("id")

    # (b) French queries
    fr = free[
        free["source"].isin(["ca_gc_programs", "ca_gc_services", "ca_ore_code"])
        & (free["description_fr"].str.len() >= 100)
    ]
    for r in pick(fr, N_FR_BILINGUAL).itertuples(index=False):
        add(
            "fr_bilingual",
            r.id,
            r.title_fr,
            r.description_fr,
            r.department_fr or r.department,
            "fr",
            [r.id],
        )
    old_fr = svc_old[
        svc_old["new_id"].isin(set(free["id"])) & (svc_old["description_fr"].str.len() >= 60)
    ].drop_duplicates("new_id")
    old_fr = old_fr[
        old_fr.apply(
            lambda x: norm(x.description_fr) != norm(rec.at[x.new_id, "description_fr"]), axis=1
        )
    ]
    chosen_fr = old_fr[~old_fr["new_id"].isin(used)]
    chosen_fr = chosen_fr.sample(
        n=min(N_FR_REWORDED, len(chosen_fr)), random_state=int(rng.integers(1 << 31))
    )
    for r in chosen_fr.sort_values("new_id").itertuples(index=False):
        used.add(r.new_id)
        add(
            "fr_reworded",
            r.new_id,
            r.title_fr,
            r.description_fr,
            rec.at[r.new_id, "department_fr"] or rec.at[r.new_id, "department"],
            "fr",
            [r.new_id],
        )

    # (c) short notes: a distinctive title against a long description
    notes = free[
        free["id"].map(unique_title)
        & (free["title"].str.split().str.len() >= 3)
        & (free["description"].str.len() >= 300)
    ]
    per_src = -(-N_SHORT_NOTE // notes["source"].nunique())
    notes = notes.groupby("source", group_keys=False).apply(
        lambda g: g.sample(n=min(per_src, len(g)), random_state=seed)
    )
    for r in pick(notes, N_SHORT_NOTE).itertuples(index=False):
        note = (
            f"{r.title} ({r.sub_organization})"
            if r.sub_organization and r.sub_organization != r.title
            else r.title
        )
        add("short_note", r.id, r.title, note, r.department, "en", [r.id])

    # (c2) English queries against records stored in French in the portfolio
    to_fr = free[
        free["source"].isin(["ca_gc_programs", "ca_gc_services"])
        & (free["description_fr"].str.len() >= 100)
        & (free["title_fr"] != "")
    ]
    french_ids: set[str] = set()
    for r in pick(to_fr, N_EN_TO_FR).itertuples(index=False):
        french_ids.add(r.id)
        add("en_to_fr", r.id, r.title, r.description, r.department, "en", [r.id])

    # (d) genuinely new: distinctive records, held out of the portfolio, spread over sources
    n_new = round(len(queries) * NEW_SHARE / (1 - NEW_SHARE))
    new_pool = free[
        (free["id"].map(sim) < NEW_MAX_SIM)
        & (free["description"].str.len() >= 150)
        & (free["title"].str.split().str.len() >= 2)
        & (free["department"] != "Department of Energy")
    ]
    new_pool = new_pool[~new_pool["id"].isin(used)]
    per_source = -(-n_new // new_pool["source"].nunique())
    chosen_new = new_pool.groupby("source", group_keys=False).apply(
        lambda g: g.sample(n=min(per_source, len(g)), random_state=seed)
    )
    chosen_new = chosen_new.sample(n=min(n_new, len(chosen_new)), random_state=seed).sort_values(
        "id"
    )
    held_out = set(chosen_new["id"])
    for r in chosen_new.itertuples(index=False):
        add("new", r.id, r.title, r.description, r.department, "en", [])

    # portfolio
    port = ini[~ini["id"].isin(held_out)].copy()
    fr_rows = port["id"].isin(french_ids)
    for col in ("title", "description", "department"):
        port.loc[fr_rows, col] = port.loc[fr_rows, f"{col}_fr"].where(
            port.loc[fr_rows, f"{col}_fr"] != "", port.loc[fr_rows, col]
        )
    port.loc[fr_rows, "language"] = "fr"
    footed = port["source"].isin(FOOTER_SOURCES) & (rng.random(len(port)) < FOOTER_PORTFOLIO_SHARE)
    port.loc[footed, "description"] = [
        f"{d} {footer(rng, 'en')}" for d in port.loc[footed, "description"]
    ]
    portfolio = pd.DataFrame(
        {
            "id": port["id"],
            "title": port["title"],
            "description": port["description"],
            "department": port["department"],
            "owner_name": port["owner_name"],
            "owner_email": port["owner_contact"],
            "status": port["status"],
            "start_date": port["date"],
            "language": port["language"].replace({"en+fr": "en"}),
            "url": port["url"],
            "source": port["source"],
        }
    )[CANONICAL]

    # split by group, shared by queries and pairs
    q = pd.DataFrame(queries)
    q.insert(0, "query_id", [s or f"q{n:04d}" for n, s in enumerate(q["self_id"], start=1)])

    def pair_group(key: str) -> str:
        if key.isdigit():  # TBS service_id
            key = f"ca-svc-{key}-2023-2024"
        return fam.get(key, key)

    pgroup = pairs["group_key"].map(lambda k: pair_group(k) if k else "")
    # Families: the README ones ship in data/sample and tests (seen) -> tune; the others are dealt
    # largest first to the split with fewer members so far. Other groups: at random.
    sizes = pd.Series(list(fam.values())).value_counts()
    balance = {"tune": int(sizes[sizes.index.isin(SEEN_FAMILIES)].sum()), "holdout": 0}
    holdout: set[str] = set()
    order = sizes[~sizes.index.isin(SEEN_FAMILIES)].sample(frac=1, random_state=seed)
    for name, size in order.sort_values(ascending=False, kind="stable").items():
        side = "holdout" if balance["holdout"] < balance["tune"] else "tune"
        balance[side] += int(size)
        if side == "holdout":
            holdout.add(str(name))
    others = sorted((set(q["group"]) | (set(pgroup) - {""})) - set(sizes.index))
    draws = rng.random(len(others))
    holdout |= {g for g, d in zip(others, draws, strict=True) if d < HOLDOUT_SHARE}
    q["split"] = np.where(q["group"].isin(holdout), "holdout", "tune")

    # Intake realism on the held-out split: short notes for half the same-text family queries
    hold_same = q.index[(q["split"] == "holdout") & (q["kind"] == "family_same_text")]
    notes_idx = [i for i, d in zip(hold_same, rng.random(len(hold_same)), strict=True) if d < 0.5]
    for i in notes_idx:
        q.at[i, "description"] = short_note(q.at[i, "title"], q.at[i, "description"])
        q.at[i, "kind"] = "family_short_note"
    # ... and admin footers on a share of every split's queries (tuning must learn to ignore them)
    q["footer"] = "0"
    for i, d in zip(q.index, rng.random(len(q)), strict=True):
        if d < FOOTER_QUERY_SHARE:
            q.at[i, "description"] = f"{q.at[i, 'description']} {footer(rng, q.at[i, 'language'])}"
            q.at[i, "footer"] = "1"
    # "New" proposals that are not: the distinctiveness rule (no TF-IDF neighbour above
    # NEW_MAX_SIM) lets through another department's system of the same kind in other words
    # (an ESDC learning management system among other departments' LMSs). Pooled judgements,
    # like the families': the top 3 of the scorer, dense cosine and TF-IDF for every new query.
    judged_twins = new_twins()
    for i in q.index[q["kind"] == "new"]:
        twins = judged_twins.get(q.at[i, "source_id"])
        if twins:
            q.at[i, "kind"] = "new_twin"
            q.at[i, "expected_ids"] = joined(twins)
            q.at[i, "expected_owner_emails"] = joined(rec.loc[twins, "owner_contact"])
    random_pairs = pgroup == ""
    pair_holdout = pgroup.isin(holdout) | (random_pairs & (rng.random(len(pairs)) < HOLDOUT_SHARE))

    # Cross-language re-wordings: each service pair again with one side in French (drawn at
    # random; a separate generator so the sets above do not change). The gov_pairs EN/FR type is
    # a translation of one text; intake meets another year's wording in the other language.
    pairs, pair_holdout = cross_language_pairs(
        pairs, pair_holdout, ini, svc_old, np.random.default_rng(seed + 1)
    )

    # checks
    in_port = set(portfolio["id"])
    for ids in q["expected_ids"]:
        assert all(i in in_port for i in ids.split(";") if i), ids
    assert not held_out & in_port
    assert not set(q.loc[q["split"] == "tune", "group"]) & set(
        q.loc[q["split"] == "holdout", "group"]
    )

    out.mkdir(parents=True, exist_ok=True)
    files = {
        "portfolio.csv": portfolio,
        "queries_tune.csv": q.loc[q["split"] == "tune", QUERY_COLS],
        "queries_holdout.csv": q.loc[q["split"] == "holdout", QUERY_COLS],
        "queries_meta.csv": q[["query_id", "kind", "group", "split", "source_id", "footer"]],
        "pairs_tune.csv": pairs[~pair_holdout],
        "pairs_holdout.csv": pairs[pair_holdout],
    }
    for name, frame in files.items():
        frame.to_csv(out / name, index=False)
    kinds = ", ".join(f"{k}={v}" for k, v in q["kind"].value_counts().sort_index().items())
    print(
        f"{out}: "
        + ", ".join(f"{n}={len(f)}" for n, f in files.items())
        + f" | query kinds: {kinds}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("out", nargs="?", type=Path, default=REPO / "build" / "eval")
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args()
    build(args.shared, args.out, args.seed)


if __name__ == "__main__":
    main()
