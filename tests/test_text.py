from dedupe.text import detect_language, normalize_text, split_sentences, tokenize


def test_normalize_text_nfc_entities_whitespace_controls() -> None:
    assert normalize_text("  Caf\u0065\u0301 &amp; co\x00\n\n  x ") == "Café & co x"
    assert normalize_text(None) == ""
    assert normalize_text(float("nan")) == ""


def test_normalize_keeps_markup_as_text() -> None:
    assert normalize_text("<script>alert(1)</script>") == "<script>alert(1)</script>"


def test_tokenize_drops_stopwords_and_keeps_accents() -> None:
    assert tokenize("The Système de courriel and the e-mail") == ["système", "courriel", "email"]


def test_a_hyphenated_word_is_the_word_written_without_its_hyphens() -> None:
    assert tokenize("Wi-Fi / WiFi, e-mail / email, on-line / online") == [
        "wifi",
        "wifi",
        "email",
        "email",
        "online",
        "online",
    ]


def test_tokenize_cuts_french_elisions_and_english_possessives() -> None:
    assert tokenize("l'infonuagique et l’évaluation d'impact") == [
        "infonuagique",
        "évaluation",
        "impact",
    ]
    assert tokenize("jusqu'à l'ACIA; the agency's cloud; aujourd'hui") == [
        "acia",
        "agency",
        "cloud",
        "aujourd'hui",
    ]


def test_split_sentences_merges_fragments() -> None:
    assert split_sentences("First sentence here. Ok. Second one follows.") == [
        "First sentence here. Ok.",
        "Second one follows.",
    ]


def test_detect_language_en_fr() -> None:
    assert detect_language("Remplacer le système de courriel du ministère") == "fr"
    assert detect_language("Replace the department's email system") == "en"
    assert detect_language("   ") == ""


def test_language_model_copy_is_written_once_and_read_back(tmp_path, monkeypatch) -> None:
    """The uncompressed copy of py3langid's model gives the same answers; a broken copy is
    replaced, never trusted."""
    import subprocess
    import sys

    code = (
        "from dedupe.text import detect_language as d; "
        "print(d('Le ministère migrera les boîtes aux lettres'), d('Mailbox migration project'))"
    )
    env = {**__import__("os").environ, "DEDUPE_CACHE_DIR": str(tmp_path)}

    def run() -> str:
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    assert run() == "fr en"  # unpacks the package's model and keeps a copy
    (copy,) = tmp_path.glob("py3langid-*-model.npz")
    assert run() == "fr en"  # from the copy
    copy.write_bytes(b"not an npz")
    assert run() == "fr en"  # falls back, and rewrites the copy
    assert copy.stat().st_size > 1_000_000
