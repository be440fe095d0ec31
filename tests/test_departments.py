"""One department under its English and French names (dedupe.departments)."""

from __future__ import annotations

from pathlib import Path

from conftest import row
from test_detector import EMAIL

from dedupe import Detector, Proposal
from dedupe.departments import closest_departments, department_key, same_department
from dedupe.embed.fake import FakeEncoder


def test_french_names_fold_to_the_english_name() -> None:
    assert department_key("Pêches et Océans Canada") == "fisheries and oceans"
    assert same_department("Services partagés Canada", "Shared Services Canada")
    assert same_department("PECHES ET OCEANS CANADA", "Fisheries and Oceans Canada")  # accents
    assert same_department(
        "Commission de l’immigration et du statut de réfugié du Canada",
        "Immigration and Refugee Board of Canada",
    )  # typographic apostrophe
    assert same_department("  canadian   heritage ", "Patrimoine canadien")


def test_short_forms_and_the_sources_variants_are_one_department() -> None:
    assert same_department("Service correctionnel du Canada", "Correctional Service Canada")
    assert same_department("Correctional Service of Canada", "Correctional Service Canada")
    assert same_department("Pêches et Océans", "Fisheries and Oceans Canada")
    assert same_department("The Correctional Investigator Canada", "L'Enquêteur correctionnel")
    assert same_department(
        "Centre de la sécurité des télécommunications", "Communications Security Establishment"
    )
    # a slip of the published inventories (one row) is not in the table
    assert same_department("Commission de la fonction publique", "Public Service Commission")
    assert not same_department("Commission de la fonction publique", "Public Health Agency")


def test_a_departments_acronyms_name_it_in_either_language() -> None:
    assert same_department("ESDC", "Employment and Social Development Canada")
    assert same_department("EDSC", "Emploi et Développement social Canada")
    assert same_department("esdc", "EDSC")  # case folded like any name
    assert same_department("NRCan", "Ressources naturelles Canada")
    assert same_department("SPC", "Shared Services Canada")
    assert same_department("STATCAN", "Statistique Canada")
    assert department_key("CRA") == department_key("ARC") == "canada revenue agency"
    assert not same_department("CRA", "CBSA")
    assert department_key("CCG") == "ccg"  # the grain commission in French, the Coast Guard


def test_uk_and_us_departments_by_their_usual_abbreviations() -> None:
    assert same_department("HMRC", "HM Revenue and Customs")
    assert same_department("dwp", "Department for Work and Pensions")
    assert same_department("DHS", "Department of Homeland Security")
    assert same_department("VA", "Department of Veterans Affairs")
    assert not same_department("VA", "Veterans Affairs Canada")  # VAC is Canada's
    # letters a Canadian department already has keep their Canadian meaning
    assert same_department("NRC", "National Research Council Canada")
    assert not same_department("NRC", "Nuclear Regulatory Commission")
    names = ["HM Revenue and Customs", "Department of Energy"]
    assert closest_departments("HMRC", names) == (True, [])


def test_the_closest_names_of_a_department_not_in_the_index() -> None:
    names = ["DFO", "Transport Canada", "Employment and Social Development Canada"]
    assert closest_departments("EDSC", names) == (True, [])  # its French acronym
    assert closest_departments("DFOO", names) == (False, ["DFO"])  # as written
    assert closest_departments("Transports Canda", names) == (False, ["Transport Canada"])
    assert closest_departments("Ministry of Magic", names) == (False, [])


def test_other_names_stay_apart() -> None:
    assert not same_department("Parks Canada", "Parcs Canada Agency")
    assert not same_department("Transport Canada", "Transports Québec")
    assert not same_department("", "")  # a blank department is nobody's
    assert department_key("Ministry of Magic") == "ministry of magic"
    assert department_key("Canada") == "canada" and department_key(" ") == ""


def test_a_french_named_department_is_the_same_department_everywhere(
    tmp_path: Path, write_csv, fake: FakeEncoder
) -> None:
    records = [
        row(
            1,
            title="Email Transformation Initiative",
            description=EMAIL,
            department="Shared Services Canada",
        ),
        row(
            2,
            title="Email Transformation Initiative",
            description=EMAIL + " Migrer.",
            department="Services partagés Canada",
        ),
        row(
            3,
            title="Email Transformation Initiative",
            description=EMAIL + " Migrate.",
            department="Canada Border Services Agency",
        ),
    ]
    Detector.ingest(tmp_path / "ix", [write_csv(records)], encoder=fake)
    det = Detector.open(tmp_path / "ix", encoder=fake)
    result = det.check(
        Proposal(
            title="Email Transformation Initiative",
            description=EMAIL,
            department="Services Partagés Canada",
        )
    )
    same = {m.id: m.same_department for m in result.matches}
    assert same == {"r1": True, "r2": True, "r3": False}
    assert det.department_matches("Services partagés Canada") == (True, [])
    assert det.department_matches("Pêches et Océans Canada")[0] is False
    by_pair = {(p.id_a, p.id_b): p.same_department for p in det.pairs()}
    assert by_pair[("r1", "r2")] is True
    assert by_pair[("r1", "r3")] is False and by_pair[("r2", "r3")] is False


def test_the_report_rolls_up_a_department_named_both_ways_as_one() -> None:
    from dedupe.records import Record
    from dedupe.report.build import _department_names, _rollup
    from dedupe.report.model import PairRow

    def rec(i: int, dept: str) -> Record:
        return Record(id=f"r{i}", title="t", description="d", department=dept)

    records = [
        rec(1, "Canadian Heritage"),
        rec(2, "Canadian Heritage"),
        rec(3, "Patrimoine canadien"),
        rec(4, "Transport Canada"),
    ]
    names = _department_names(records)
    assert names["canadian heritage"] == "Canadian Heritage"

    def pair(a: str, b: str) -> PairRow:
        return PairRow(
            pair_id="p",
            id_a="a",
            id_b="b",
            title_a="",
            title_b="",
            department_a=a,
            department_b=b,
            owner_a="",
            owner_b="",
            score=0.9,
            tier="duplicate",
            similarity=0.9,
            same_department=False,
            status="new",
        )

    departments, matrix = _rollup(
        [
            pair("Patrimoine canadien", "Transport Canada"),
            pair("Canadian Heritage", "Transport Canada"),
        ],
        names,
    )
    assert departments == ["Canadian Heritage", "Transport Canada"]
    assert matrix == [[0, 2], [2, 0]]


def test_the_report_names_and_counts_a_department_once(
    tmp_path: Path, write_csv, fake: FakeEncoder
) -> None:
    from dedupe.report import build_report

    text = EMAIL + " Mailbox migration for every office."
    records = [
        row(1, title="Email Transformation", description=text, department="Canadian Heritage"),
        row(2, title="Email Transformation", description=text, department="CANADIAN HERITAGE"),
        row(3, title="Email Transformation", description=text, department="Patrimoine canadien"),
        row(4, title="Email Transformation", description=text, department="Transport Canada"),
    ]
    Detector.ingest(tmp_path / "ix", [write_csv(records)], encoder=fake)
    report = build_report(Detector.open(tmp_path / "ix", encoder=fake))
    (cluster,) = report.clusters
    assert cluster.departments == ("Canadian Heritage", "Transport Canada")
    assert len(cluster.members) == 4
    assert report.headline.departments == 2
    assert {frozenset((p.department_a, p.department_b)) for p in report.pairs} == {
        frozenset(("Canadian Heritage", "Transport Canada"))
    }
    assert all(p.same_department for p in report.same_department)
    assert len(report.same_department) == 3  # r1-r2, r1-r3, r2-r3
