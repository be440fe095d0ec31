"""English↔French lexical similarity: the learned lexicon, its file, the `lexical_xl` feature."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from dedupe.errors import DedupeError
from dedupe.match.bilingual import (
    Lexicon,
    learn_lexicon,
    shipped_lexicon,
    translated_similarity,
)
from dedupe.match.features import pair_features
from dedupe.match.lexical import LexicalModel
from dedupe.match.reasons import shared_terms_many

ENGLISH = [
    "Payroll system for employees",
    "Fisheries licence renewal online",
    "Cloud migration of payroll data",
    "Online fisheries reporting for harvesters",
    "Training for employees on the cloud",
    "Licence for seasonal harvesters",
]
FRENCH = [
    "Système de paie pour les employés",
    "Renouvellement en ligne du permis de pêche",
    "Migration infonuagique des données de paie",
    "Déclaration en ligne des pêches pour les récolteurs",
    "Formation des employés sur l'infonuagique",
    "Permis pour les récolteurs saisonniers",
]


def test_learns_the_word_each_french_word_is_aligned_with() -> None:
    lex = learn_lexicon(ENGLISH, FRENCH, min_dice=0.5, min_count=2)
    assert lex.fr_to_en["paie"] == "payroll"
    assert lex.fr_to_en["employés"] == "employees"
    assert lex.fr_to_en["infonuagique"] == "cloud"
    assert lex.fr_to_en["récolteurs"] == "harvesters"
    assert "système" not in lex.fr_to_en  # seen once: below min_count
    assert lex.translate("Paie des employés") == "payroll employees"


def test_a_word_that_is_the_same_in_both_languages_is_not_stored() -> None:
    lex = learn_lexicon(
        ["GCdocs rollout", "GCdocs training"],
        ["GCdocs déploiement", "GCdocs formation"],
        min_count=2,
    )
    assert "gcdocs" not in lex.fr_to_en
    assert lex.translate("GCdocs") == "gcdocs"


def test_mismatched_corpora_are_refused() -> None:
    with pytest.raises(DedupeError, match="3 English texts but 2 French"):
        learn_lexicon(["a", "b", "c"], ["a", "b"])


def test_tsv_round_trip_and_a_bad_line_is_named() -> None:
    lex = Lexicon({"paie": "payroll", "pêche": "fisheries"}, "built for a test\nsecond line")
    again = Lexicon.from_tsv(lex.to_tsv())
    assert again == lex
    with pytest.raises(DedupeError, match=r"lexicon_fr_en.tsv, line 3: .*'paie payroll'"):
        Lexicon.from_tsv("# note\npêche\tfisheries\npaie payroll\n")


def test_the_shipped_lexicon_knows_government_words() -> None:
    lex = shipped_lexicon()
    assert len(lex) > 2000
    for fr, en in {
        "gestion": "management",
        "numérique": "digital",
        "subventions": "grants",
    }.items():
        assert lex.fr_to_en[fr] == en
    assert "Government of Canada" in lex.source and "held-out" in lex.source


def test_cross_language_pairs_are_compared_after_translation() -> None:
    texts = ["payroll system for employees", "fisheries licence for harvesters", "cloud data"]
    model = LexicalModel.fit(texts)
    lex = Lexicon({"paie": "payroll", "employés": "employees", "système": "system"})
    sims = translated_similarity(
        model,
        ["système de paie des employés", "système de paie des employés", "payroll system"],
        ["payroll system for employees", "fisheries licence for harvesters", "payroll system"],
        ["fr", "fr", "en"],
        ["en", "en", "en"],
        lex,
    )
    assert sims[0] > 0.7  # the same words once translated (word order changes the bigrams)
    assert sims[1] == 0.0  # nothing in common
    assert sims[2] == 0.0  # one language: the `lexical` feature's job, not this one


def test_lexical_xl_feature_is_zero_within_a_language() -> None:
    model = LexicalModel.fit(["gestion des subventions", "grants management system"])
    x = pair_features(
        dense=np.array([0.5, 0.5]),
        lexical=model,
        texts_a=["gestion des subventions", "grants management"],
        texts_b=["grants management system", "grants management system"],
        titles_a=["Subventions", "Grants"],
        titles_b=["Grants", "Grants"],
        depts_a=["A", "A"],
        depts_b=["B", "B"],
        langs_a=["fr", "en"],
        langs_b=["en", "en"],
        features=("lexical", "lexical_xl"),
    )
    assert x[0, 0] == pytest.approx(0.0, abs=1e-6) and x[0, 1] > 0.5  # shipped lexicon
    assert x[1, 1] == 0.0 and x[1, 0] > 0.5


def test_an_english_text_read_as_french_is_not_scored_as_a_translation() -> None:
    texts = ["cloud contact centre for public enquiries", "contact centre telephony replacement"]
    model = LexicalModel.fit(texts)
    lex = Lexicon({"centre": "center", "paie": "payroll", "gestion": "management"})
    assert lex.translate_counting("cloud contact centre")[1] == pytest.approx(1 / 3)
    english_as_french = translated_similarity(model, [texts[0]], [texts[1]], ["fr"], ["en"], lex)
    assert model.pair_similarity([texts[0]], [texts[1]])[0] > 0.2  # plain overlap exists
    assert english_as_french[0] > 0  # a third of its words are "French": still translated
    sparse = Lexicon({"paie": "payroll"})  # knows none of its words: coverage 0
    assert translated_similarity(model, [texts[0]], [texts[1]], ["fr"], ["en"], sparse)[0] == 0.0


def test_shared_terms_across_languages_name_the_french_word() -> None:
    lex = Lexicon({"courriel": "email", "gestion": "management", "ministère": "department"})
    fr = "Initiative de transformation du courriel du ministère"
    en = ["Email Transformation Initiative for the department", "Records management"]
    terms = shared_terms_many(
        fr, en, None, lexicon=lex, query_language="fr", languages=["en", "en"]
    )
    assert set(terms[0]) == {
        "courriel = email",
        "transformation",
        "initiative",
        "ministère = department",
    }
    assert terms[1] == ()
    # the other way round, and without a lexicon only the identical words
    back = shared_terms_many(en[0], [fr], None, lexicon=lex, query_language="en", languages=["fr"])
    assert "courriel = email" in back[0]
    assert set(shared_terms_many(fr, en[:1], None)[0]) == {"transformation", "initiative"}


def test_learning_is_the_same_in_every_process() -> None:
    code = (
        "from dedupe.match.bilingual import learn_lexicon\n"
        "en = ['alpha beta gamma', 'alpha beta delta', 'alpha beta gamma delta']\n"
        "fr = ['un deux trois', 'un deux quatre', 'un deux trois quatre']\n"
        "print(sorted(learn_lexicon(en, fr, min_count=2).fr_to_en.items()))\n"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in (1, 2, 3, 4)
    }
    assert len(runs) == 1  # `un` and `deux` tie between `alpha` and `beta`: always the same pick
