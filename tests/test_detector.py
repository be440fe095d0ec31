from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import row

from dedupe import Detector, Proposal, Tier
from dedupe.embed.fake import FakeEncoder
from dedupe.errors import IndexCorruptError, IndexNotFoundError, IngestError, ModelMismatchError
from dedupe.index.store import PortfolioIndex

EMAIL = (
    "Email transformation: consolidate departmental email systems onto one shared email platform."
)


def portfolio() -> list[dict[str, str]]:
    return [
        row(
            1,
            title="Email Transformation Initiative",
            description=EMAIL,
            department="Shared Services",
        ),
        row(
            2,
            title="Email Transformation Initiative",
            description=EMAIL + " Migrate mailboxes.",
            department="Border Agency",
            owner_name="Ana Diaz",
            owner_email="ana.diaz@cbsa.gc.ca",
        ),
        row(
            3,
            title="Fishing vessel inspection app",
            description="Inspect fishing vessels at sea with tablets.",
            department="Fisheries",
        ),
        row(
            4,
            title="Payroll modernization",
            description="Replace the payroll system for all staff.",
            department="Finance",
            owner_name="",
            owner_email="",
        ),
    ]


def test_ingest_then_check_finds_the_duplicate_and_owners(
    tmp_path: Path, write_csv, fake: FakeEncoder
) -> None:
    summary = Detector.ingest(tmp_path / "ix", [write_csv(portfolio())], encoder=fake)
    assert (summary.rows_in, summary.indexed, summary.quarantined) == (4, 4, 0)
    det = Detector.open(tmp_path / "ix", encoder=fake)
    result = det.check(
        Proposal(
            title="Email Transformation Initiative", description=EMAIL, department="Border Agency"
        )
    )
    assert result.matches[0].id in {"r1", "r2"}
    assert result.matches[0].tier is Tier.DUPLICATE
    assert result.exit_code == 3
    assert {m.id for m in result.matches} >= {"r1", "r2"}
    assert "r3" not in {m.id for m in result.matches}
    r2 = next(m for m in result.matches if m.id == "r2")
    assert r2.same_department and r2.owners[0].email == "ana.diaz@cbsa.gc.ca"
    assert "email" in r2.reason.shared_terms
    assert any(o.email == "ana.diaz@cbsa.gc.ca" for o in result.owners)
    payload = json.loads(json.dumps(result.to_json()))
    assert set(payload) == {"matches", "owners"}
    assert {"id", "title", "department", "score", "tier", "reason", "owners"} <= set(
        payload["matches"][0]
    )
    assert {"name", "email", "department", "initiatives"} == set(payload["owners"][0])


def test_unrelated_proposal_is_not_flagged(tmp_path: Path, write_csv, fake: FakeEncoder) -> None:
    Detector.ingest(tmp_path / "ix", [write_csv(portfolio())], encoder=fake)
    det = Detector.open(tmp_path / "ix", encoder=fake)
    result = det.check(Proposal(title="Satellite weather radar calibration"))
    assert not result.flagged and result.exit_code == 0


def test_owner_unknown_points_to_the_department(
    tmp_path: Path, write_csv, fake: FakeEncoder
) -> None:
    Detector.ingest(tmp_path / "ix", [write_csv(portfolio())], encoder=fake)
    det = Detector.open(tmp_path / "ix", encoder=fake)
    result = det.check(
        Proposal(
            title="Payroll modernization", description="Replace the payroll system for all staff."
        )
    )
    assert result.matches[0].id == "r4"
    assert result.owners[0].name == "" and result.owners[0].department == "Finance"


def test_reingest_adds_updates_removes_and_embeds_only_changes(
    tmp_path: Path, write_csv, fake: FakeEncoder
) -> None:
    rows = portfolio()
    path = write_csv(rows)
    Detector.ingest(tmp_path / "ix", [path], encoder=fake)
    first = fake.n_encoded
    same = Detector.ingest(tmp_path / "ix", [path], encoder=fake)
    assert same.embedded == 0 and fake.n_encoded == first and same.unchanged == 4
    rows[2] = row(
        3,
        title="Fishing vessel inspection app v2",
        description="Inspect vessels with drones.",
        department="Fisheries",
    )
    del rows[3]
    rows.append(
        row(9, title="Grants management", description="One grants system.", department="Heritage")
    )
    changed = Detector.ingest(tmp_path / "ix", [write_csv(rows)], encoder=fake)
    assert (changed.added, changed.updated, changed.removed, changed.unchanged) == (1, 1, 1, 2)
    assert changed.embedded == 2
    det = Detector.open(tmp_path / "ix", encoder=fake)
    assert {r.id for r in det.records} == {"r1", "r2", "r3", "r9"}
    # Kept vectors moved with their records (the file is written in the new row order).
    for i in range(len(det.index)):
        want = fake.encode([det.record_text(i)])[0]
        assert np.allclose(np.asarray(det.index.vectors[i], dtype=np.float32), want, atol=1e-6)


def test_other_sources_are_kept_when_one_is_reingested(
    tmp_path: Path, write_csv, fake: FakeEncoder
) -> None:
    a = write_csv(portfolio()[:2], "a.csv")
    b = write_csv(portfolio()[2:], "b.csv")
    Detector.ingest(tmp_path / "ix", [a, b], encoder=fake)
    Detector.ingest(tmp_path / "ix", [write_csv(portfolio()[:1], "a.csv")], encoder=fake)
    ids = {r.id for r in Detector.open(tmp_path / "ix", encoder=fake).records}
    assert ids == {"r1", "r3", "r4"}


def test_quarantine_file_written_and_counts_add_up(
    tmp_path: Path, write_csv, fake: FakeEncoder
) -> None:
    rows = portfolio() + [row(7, department=""), row(8, owner_email="bad@")]
    s = Detector.ingest(tmp_path / "ix", [write_csv(rows)], encoder=fake)
    assert s.rows_in == s.indexed + s.quarantined == 6
    assert s.quarantine_path and Path(s.quarantine_path).name.startswith("quarantine")
    import pandas as pd

    q = pd.read_csv(s.quarantine_path)
    assert list(q.columns[-4:]) == ["file", "row", "column", "reason"]
    assert set(q["id"]) == {"r7", "r8"}


def test_failed_ingest_leaves_the_index_untouched(
    tmp_path: Path, write_csv, fake: FakeEncoder
) -> None:
    Detector.ingest(tmp_path / "ix", [write_csv(portfolio())], encoder=fake)
    before = (tmp_path / "ix" / "manifest.json").read_text()
    with pytest.raises(IngestError):
        Detector.ingest(tmp_path / "ix", [tmp_path / "missing.csv"], encoder=fake)
    assert (tmp_path / "ix" / "manifest.json").read_text() == before
    assert len(Detector.open(tmp_path / "ix", encoder=fake).records) == 4


def test_index_built_with_another_model_is_refused_by_name(
    tmp_path: Path, write_csv, fake: FakeEncoder
) -> None:
    Detector.ingest(tmp_path / "ix", [write_csv(portfolio())], encoder=fake)
    other = FakeEncoder(model_id="fake-other-model")
    with pytest.raises(ModelMismatchError, match="fake-hashing-256.*fake-other-model"):
        Detector.open(tmp_path / "ix", encoder=other)


def test_missing_and_corrupt_index_errors_name_the_file(
    tmp_path: Path, write_csv, fake: FakeEncoder
) -> None:
    with pytest.raises(IndexNotFoundError, match="dedupe ingest"):
        Detector.open(tmp_path / "none", encoder=fake)
    Detector.ingest(tmp_path / "ix", [write_csv(portfolio())], encoder=fake)
    faiss_file = next((tmp_path / "ix").glob("index-*.faiss"))
    faiss_file.write_bytes(faiss_file.read_bytes()[:20])
    with pytest.raises(IndexCorruptError, match=rf"{faiss_file.name}.*dedupe ingest --rebuild`"):
        PortfolioIndex.open(tmp_path / "ix")
    (tmp_path / "ix" / "manifest.json").write_text("{not json")
    with pytest.raises(IndexCorruptError, match="manifest.json"):
        Detector.open(tmp_path / "ix", encoder=fake)


def test_generations_replace_old_files(tmp_path: Path, write_csv, fake: FakeEncoder) -> None:
    path = write_csv(portfolio())
    Detector.ingest(tmp_path / "ix", [path], encoder=fake)
    Detector.ingest(tmp_path / "ix", [path], encoder=fake)
    names = sorted(
        p.name
        for p in (tmp_path / "ix").iterdir()
        if p.suffix in {".faiss", ".npy", ".parquet", ".npz", ".json", ".arrow"}
        and p.name != "manifest.json"
    )
    assert names == [
        "acronyms-2.json",
        "boilerplate-2.json",
        "index-2.faiss",
        "lexical-2.npz",
        "records-2.parquet",
        "scored-2.arrow",
        "sentence-offsets-2.npy",
        "sentences-2.npy",
        "vectors-2.npy",
    ]


def test_stored_scored_texts_are_the_texts_computed_from_the_records(
    tmp_path: Path, write_csv, fake: FakeEncoder
) -> None:
    rows = portfolio() + [
        row(5, title="CMS renewal", description="Renew the CMS.", department="Finance"),
        row(
            6,
            title="Web content",
            description="A new Content Management System (CMS) for the web site. "
            "Priority: High | Gate: 2",
            department="Finance",
        ),
    ]
    Detector.ingest(tmp_path / "ix", [write_csv(rows)], encoder=fake)
    det = Detector.open(tmp_path / "ix", encoder=fake)
    assert det._scored is not None
    stored = [det.record_text(p) for p in range(len(det.index))]
    det._scored = None  # as an index from before the texts were stored: computed when read
    computed = [det.record_text(p) for p in range(len(det.index))]
    assert stored == computed
    assert any("content management system" in t.lower() for t in stored)  # acronyms spelled out


def test_an_index_without_stored_texts_still_checks(
    tmp_path: Path, write_csv, fake: FakeEncoder
) -> None:
    ix = tmp_path / "ix"
    Detector.ingest(ix, [write_csv(portfolio())], encoder=fake)
    manifest = json.loads((ix / "manifest.json").read_text())
    scored = manifest["files"].pop("scored")
    (ix / scored["name"]).unlink()
    (ix / "manifest.json").write_text(json.dumps(manifest))
    det = Detector.open(ix, encoder=fake)
    assert det._scored is None
    result = det.check(Proposal(title="Email Transformation Initiative", description=EMAIL))
    assert result.flagged


def test_truncated_scored_texts_are_refused_by_name(
    tmp_path: Path, write_csv, fake: FakeEncoder
) -> None:
    ix = tmp_path / "ix"
    Detector.ingest(ix, [write_csv(portfolio())], encoder=fake)
    scored = next(ix.glob("scored-*.arrow"))
    scored.write_bytes(scored.read_bytes()[:100])
    with pytest.raises(IndexCorruptError, match=rf"{scored.name}.*dedupe ingest --rebuild`"):
        Detector.open(ix, encoder=fake)


def test_all_pairs_finds_cross_department_duplicates(
    tmp_path: Path, write_csv, fake: FakeEncoder
) -> None:
    Detector.ingest(tmp_path / "ix", [write_csv(portfolio())], encoder=fake)
    pairs = Detector.open(tmp_path / "ix", encoder=fake).pairs()
    assert [(p.id_a, p.id_b) for p in pairs][:1] == [("r1", "r2")]
    assert pairs[0].tier.flagged and not pairs[0].same_department


def test_a_decided_match_does_not_flag_again(tmp_path: Path, write_csv, fake: FakeEncoder) -> None:
    Detector.ingest(tmp_path / "ix", [write_csv(portfolio())], encoder=fake)
    det = Detector.open(tmp_path / "ix", encoder=fake)
    proposal = Proposal(
        title="Payroll modernization",
        description="Replace the payroll system for all staff.",
        id="p-1",
    )
    assert det.check(proposal).exit_code == 3
    decided = det.check(proposal, decisions={("p-1", "r4"): "not related by alice"})
    assert decided.matches[0].decision == "not related by alice"
    assert decided.exit_code == 0


def test_a_proposal_without_a_title_is_titled_by_the_records_it_names(tmp_path: Path) -> None:
    from dedupe.proposals import titles_named_in

    text = "Replace our old learning management system with a cloud service for courses."
    titles = ["Learning Management System", "Learning Portal", "Management System", "Cloud"]
    assert titles_named_in(text, titles) == ["Learning Management System", "", "", ""]
    assert titles_named_in("system management learning", titles) == ["", "", "", ""]
