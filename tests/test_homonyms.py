"""Acronym homonyms within a pair: letters both texts spell out as two different systems do not
count as a shared word (dedupe.match.homonyms, applied by pair_features)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from dedupe.match.features import pair_features
from dedupe.match.homonyms import (
    conflicting_acronyms,
    different_meanings,
    homonym_pairs,
    name_words,
    without,
)
from dedupe.match.lexical import LexicalModel

LICENCE = "LMS renewal. Renew the Licence Management System (LMS) that tracks software licences."
LEARNING = "LMS replacement. Replace the Learning Management System (LMS) for course enrolment."


@pytest.mark.parametrize(
    ("a", "b", "homonyms"),
    [
        ("licence management system", "learning management system", True),
        ("case management system", "content management system", True),
        ("search and rescue", "synthetic aperture radar", True),  # no word in common
        (
            "electronic document and records management solution",
            "electronic document records management system",
            False,
        ),  # generic heads
        ("aviation parkway data center", "aviation parkway data centre", False),  # spelling
        ("contract management system", "content management system", True),  # "cont" only
        ("time tracking system", "time tracker system", False),  # one word, two forms
        ("licence management system", "license management system", False),
        ("software development kit", "software development kit", False),  # short words too
        ("bankruptcy and insolvency act", "bankruptcy and insolvency acts", False),
        ("gc secret infrastructure", "government of canada secret infrastructure", False),
        ("client service centre", "centre de service à la clientèle", False),  # translation
        ("government of canada", "gouvernement du canada", False),
    ],
)
def test_different_meanings(a: str, b: str, homonyms: bool) -> None:
    assert different_meanings(a, b) is homonyms
    assert different_meanings(b, a) is homonyms


def test_only_acronyms_both_texts_define_differently_conflict() -> None:
    assert conflicting_acronyms(LICENCE, LEARNING) == {"LMS"}
    same = "New LMS. Buy a Learning Management System (LMS) for staff."
    assert conflicting_acronyms(LEARNING, same) == frozenset()
    assert conflicting_acronyms(LICENCE, "New LMS for staff training.") == frozenset()  # undefined


class _Untouchable(Sequence[str]):
    """Side b of a check: record texts that must not be read when side a defines nothing."""

    def __len__(self) -> int:
        return 3

    def __getitem__(self, i):  # type: ignore[no-untyped-def]
        raise AssertionError("a record text was read")


def test_side_b_is_read_only_when_side_a_defines_an_acronym() -> None:
    assert homonym_pairs(["Payroll modernization, no acronym."] * 3, _Untouchable()) == {}
    assert homonym_pairs([LICENCE, LICENCE], [LEARNING, LICENCE]) == {0: frozenset({"LMS"})}


def test_without_removes_standalone_uses_only() -> None:
    out = without("LMS renewal (LMS) and LMSX", frozenset({"LMS"}))
    assert "LMSX" in out and out.replace("LMSX", "").count("LMS") == 0
    assert out.split()[0] == "renewal"


def test_pair_features_leave_a_homonym_out_of_words_and_titles() -> None:
    texts = [LICENCE, LEARNING, "Fleet telematics for vehicles.", "Grants portal online."]
    lexical = LexicalModel.fit(texts)
    args = dict(
        dense=np.array([0.6]),
        lexical=lexical,
        titles_a=["LMS renewal"],
        titles_b=["LMS replacement"],
        depts_a=["NRCan"],
        depts_b=["CSPS"],
        features=("lexical", "title", "title_char"),
    )
    homonyms = pair_features(texts_a=[LICENCE], texts_b=[LEARNING], **args)[0]
    twins = pair_features(  # the same pair of words with one meaning: the acronym counts
        texts_a=[LICENCE],
        texts_b=[LEARNING.replace("Learning", "Licence")],
        **args,
    )[0]
    assert homonyms[1] == 0.0  # titles share only "LMS"
    assert np.all(homonyms <= twins) and homonyms[0] < twins[0]


def test_the_words_two_names_share_go_with_the_letters() -> None:
    sims = "SIMS upgrade. Upgrade the Sample Information Management System (SIMS) for core samples."
    soc = "SIMS upgrade. Security Incident Management System (SIMS) upgrade for SOC ticketing."
    assert name_words(sims, soc, frozenset({"SIMS"})) == {"management", "system"}
    assert without(sims, frozenset({"SIMS"}), frozenset({"management", "system"})).split() == (
        "upgrade. Upgrade the Sample Information ( ) for core samples.".split()
    )
    lexical = LexicalModel.fit([sims, soc, "Fleet telematics.", "Grants portal online."])
    got = pair_features(
        dense=np.array([0.6]),
        lexical=lexical,
        texts_a=[sims],
        texts_b=[soc],
        titles_a=["SIMS upgrade"],
        titles_b=["SIMS upgrade"],
        depts_a=["NRCan"],
        depts_b=["CBSA"],
        features=("lexical",),
    )[0, 0]
    # what is left in common is "upgrade"; with "management system" it was higher
    kept = lexical.pair_similarity(
        [without(sims, frozenset({"SIMS"}))], [without(soc, frozenset({"SIMS"}))]
    )
    assert got < 0.7 * float(kept[0])


def test_a_dash_definition_conflicts_with_a_parenthesised_one() -> None:
    contract = "CMS – Case Management System Replacement. Track complaint cases and actions."
    content = "New web CMS. Migrate the websites to a new Content Management System (CMS)."
    assert conflicting_acronyms(contract, content) == {"CMS"}


def test_a_text_that_names_the_other_system_is_not_a_homonym() -> None:
    secret = "Adoption of Government of Canada Secret Infrastructure (GCSI) in ESDC."
    secure = (
        "Government of Canada Secret Infrastruture. "
        "Government of Canada Secure Infrastructure (GCSI) - implementation."
    )
    assert different_meanings(
        "Government of Canada Secret Infrastructure", "Government of Canada Secure Infrastructure"
    )
    assert conflicting_acronyms(secret, secure) == frozenset()  # the second names "Secret" too


def test_all_pairs_find_homonyms_from_the_records_meanings(tmp_path, fake) -> None:
    from dedupe import Detector
    from dedupe.match.homonyms import homonym_senses

    csv = tmp_path / "portfolio.csv"
    csv.write_text(
        "id,title,description,department\n"
        f'a,LMS renewal,"{LICENCE}",NRCan\n'
        f'b,LMS replacement,"{LEARNING}",CSPS\n'
        "c,New LMS,New LMS for staff training.,CSPS\n"
        "d,Payroll,Pay employees every two weeks.,PSPC\n",
        encoding="utf-8",
    )
    Detector.ingest(tmp_path / "ix", [csv], encoder=fake)
    det = Detector.open(tmp_path / "ix", encoder=fake)
    senses = dict(zip(det.column("id"), det.acronym_senses(), strict=True))
    assert senses["a"] == {"LMS": "licence management system"}
    assert senses["b"] == senses["c"] == {"LMS": "learning management system"}  # CSPS's meaning
    assert senses["d"] == {}
    assert homonym_senses(senses["a"], senses["b"]) and homonym_senses(senses["a"], senses["c"])
    assert not homonym_senses(senses["b"], senses["c"]) and not homonym_senses(senses["a"], {})
    det.lexical.matrix = None  # an index too large to keep TF-IDF rows: read the raw texts
    det._acronym_senses = None
    assert dict(zip(det.column("id"), det.acronym_senses(), strict=True)) == senses


def test_a_homonym_is_not_given_as_a_shared_term() -> None:
    from dedupe.match.reasons import shared_terms, shared_terms_many

    assert "lms" not in shared_terms(LICENCE, LEARNING, None)
    same = "New LMS. Buy a Learning Management System (LMS) for staff."
    assert "lms" in shared_terms(LEARNING, same, None)
    many = shared_terms_many(LICENCE, [LEARNING, LICENCE], None)
    assert "lms" not in many[0] and "lms" in many[1]
