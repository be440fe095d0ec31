from dedupe.text import detect_language, normalize_text, split_sentences, tokenize


def test_normalize_text_nfc_entities_whitespace_controls() -> None:
    assert normalize_text("  Caf\u0065\u0301 &amp; co\x00\n\n  x ") == "Café & co x"
    assert normalize_text(None) == ""
    assert normalize_text(float("nan")) == ""


def test_normalize_keeps_markup_as_text() -> None:
    assert normalize_text("<script>alert(1)</script>") == "<script>alert(1)</script>"


def test_tokenize_drops_stopwords_and_keeps_accents() -> None:
    assert tokenize("The Système de courriel and the e-mail") == ["système", "courriel", "e-mail"]


def test_split_sentences_merges_fragments() -> None:
    assert split_sentences("First sentence here. Ok. Second one follows.") == [
        "First sentence here. Ok.",
        "Second one follows.",
    ]


def test_detect_language_en_fr() -> None:
    assert detect_language("Remplacer le système de courriel du ministère") == "fr"
    assert detect_language("Replace the department's email system") == "en"
    assert detect_language("   ") == ""
