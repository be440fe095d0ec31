"""Acronyms learned from the portfolio and spelled out where a text only uses them."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from dedupe import Detector, Proposal
from dedupe.embed.fake import FakeEncoder
from dedupe.errors import IndexCorruptError
from dedupe.match.acronyms import Acronyms, dash_definitions, find_definitions


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Replace the learning management system (LMS) used by staff",
            ("LMS", "learning management system"),
        ),
        (
            "Electronic Document and Records Management System (eDRMS) for all employees",
            ("eDRMS", "Electronic Document and Records Management System"),
        ),
        (
            "Mettre en place un système de gestion de l'apprentissage (SGA) pour le personnel",
            ("SGA", "système de gestion de l'apprentissage"),
        ),
        (
            "Connect to GCSI (Government of Canada Secret Infrastructure) this year",
            ("GCSI", "Government of Canada Secret Infrastructure"),
        ),
    ],
)
def test_definitions_are_found_in_both_orders_and_languages(
    text: str, expected: tuple[str, str]
) -> None:
    assert expected in find_definitions(text)


@pytest.mark.parametrize(
    "text",
    [
        "A pilot (phase one) with partners (OK)",
        "Implement Workload Migration (WLM) across departments",  # letters are not the initials
        "Upgrade the platform (2021-2022)",
    ],
)
def test_parentheses_that_are_not_definitions_are_ignored(text: str) -> None:
    assert find_definitions(text) == []


def _portfolio() -> Acronyms:
    return Acronyms.learn(
        [
            "LMS. Replace the learning management system (LMS) used to enrol employees.",
            "Financial reporting (FRS) tool.",  # letters F, R, S but the words give F, R: no
            "Public Health. National Immunization Strategy (NIS) rollout.",
            "Fisheries. Navigation Information System (NIS) for vessels.",
            "GC Secret Infrastructure (GCSI) expansion.",
            "Adopt the Government of Canada Secret Infrastructure (GCSI).",
            "Onboard to Government of Canada Secret Infrastructure (GCSI).",
        ],
        ["ESDC", "Finance", "Health", "DFO", "SSC", "Justice", "AAFC"],
    )


def test_a_note_gets_the_long_form_after_the_first_use() -> None:
    acr = _portfolio()
    assert (
        acr.expand("New LMS for staff training. The LMS is old.", "Parks")
        == "New LMS (learning management system) for staff training. The LMS is old."
    )


def test_a_text_that_spells_the_acronym_out_is_left_alone() -> None:
    acr = _portfolio()
    text = "Replace the learning management system (LMS) used by staff."
    assert acr.expand(text, "Parks") == text


@pytest.mark.parametrize(
    "text",
    [
        "LMS - Loan Management System. Replace the LMS used for student loans.",
        "LMS renewal. Renew the Licence Management System (LMS) for software licences.",
    ],
)
def test_a_text_that_defines_the_acronym_otherwise_keeps_its_own_meaning(text: str) -> None:
    acr = _portfolio()  # LMS: learning management system
    assert acr.expand(text, "Parks") == text


def test_dash_definitions_take_the_shortest_run_of_words_that_spells_the_acronym() -> None:
    assert dash_definitions("CMS – Contract Management System Replacement. Scope: …") == [
        ("CMS", "Contract Management System")
    ]
    assert dash_definitions("CRS - Crew Rostering System") == [("CRS", "Crew Rostering System")]
    assert dash_definitions("Phase 2 - build the portal. IT - the new tools") == []


def test_homonyms_take_the_department_meaning_or_stay_unexpanded() -> None:
    acr = _portfolio()
    assert "national immunization strategy" in acr.expand("NIS update", "Health")
    assert "navigation information system" in acr.expand("NIS update", "DFO")
    assert acr.expand("NIS update", "Parks") == "NIS update"  # two meanings, neither ours


def test_the_dominant_form_wins_over_a_variant() -> None:
    acr = _portfolio()  # GCSI: the long form twice, "gc secret infrastructure" once
    assert acr.meaning("GCSI", "Parks") == "government of canada secret infrastructure"
    assert acr.meaning("GCSI", "SSC") == "gc secret infrastructure"  # the department's own


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    acr = _portfolio()
    path = acr.save(tmp_path / "acronyms-1.json")
    assert Acronyms.load(path) == acr
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="acronyms-1.json.*re-run ingest"):
        Acronyms.load(path)


def test_ingest_learns_acronyms_and_check_uses_them(tmp_path: Path, fake: FakeEncoder) -> None:
    csv = tmp_path / "portfolio.csv"
    csv.write_text(
        "id,title,description,department\n"
        "a,Staff learning,Replace the learning management system (LMS) used to enrol staff.,ESDC\n"
        "b,Payroll,Pay employees every two weeks.,PSPC\n",
        encoding="utf-8",
    )
    Detector.ingest(tmp_path / "ix", [csv], encoder=fake)
    det = Detector.open(tmp_path / "ix", encoder=fake)
    assert det.acronyms.meaning("LMS") == "learning management system"
    query = det.candidates(Proposal(title="New LMS", description="For staff.", department="HC"))
    assert "(learning management system)" in query.query_text


def test_an_acronym_used_far_more_than_defined_is_not_spelled_out_elsewhere() -> None:
    texts = ["Search. Replace the Google Search Appliance (GSA) on the intranet."]
    texts += [f"Buy item {i} through the GSA schedule." for i in range(25)]
    acr = Acronyms.learn(texts, ["Library", *(["Procurement"] * 25)])
    assert acr.uses["GSA"] == 26
    assert acr.meaning("GSA", "Procurement") is None  # 26 uses for 1 definition: a homonym
    assert acr.meaning("GSA", "Library") == "google search appliance"  # the department's own


def test_a_project_name_is_not_lent_to_other_departments() -> None:
    """An acronym in the title of the record that defines it, defined by one department only,
    names that project: another department's bare use of it is not spelled out with that long
    form (code names are reused for unrelated systems), the project's own department's is."""
    titles = ["MERIT", "Outil MERIT", "Staff learning", "MERIT reports", "WLM", "WLM wave 2"]
    descs = [
        "MERIT (Modernized Employee Records and Information Tracking) replaces paper files.",
        "MERIT est une boîte à outils pour examiner les modèles de risque.",
        "Replace the learning management system (LMS) used to enrol staff.",
        "Monthly MERIT reports for managers.",
        "Work Load Migration (WLM) of our legacy applications.",
        "Move the rest of the servers: Work Load Migration (WLM), second wave.",
    ]
    depts = ["CSC", "OSFI", "ESDC", "CSC", "AAFC", "ISED"]
    acr = Acronyms.learn(
        [f"{t}. {d}" for t, d in zip(titles, descs, strict=True)], depts, titles=titles
    )
    assert acr.names == frozenset({"MERIT"})
    assert acr.meaning("MERIT", "OSFI") is None
    assert acr.meaning("MERIT", "CSC") == "modernized employee records and information tracking"
    assert acr.expand(descs[1], "OSFI") == descs[1]
    assert "(modernized employee" in acr.expand(descs[3], "CSC")
    assert acr.meaning("LMS", "HC") == "learning management system"  # not a title: lent
    assert acr.meaning("WLM", "DFO") == "work load migration"  # defined by two departments: lent
    assert Acronyms.load(acr.save(Path(tempfile.mkdtemp()) / "a.json")).names == acr.names
