"""Comparing with the previous run: pairs the neighbour search missed, ended statuses, the page.

Tonight's pairs come from each record's k nearest neighbours; a previous pair missing from them
is scored again (`dedupe.report.carry`), never called resolved only because it was not returned.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from report_helpers import EMAIL, alpha_rows, beta_rows, night, rec, write_many, write_sources

from dedupe import Detector
from dedupe.embed.fake import FakeEncoder
from dedupe.report import build_report, load_sources, run_report
from dedupe.report.carry import KEEP_MARGIN, score_rows
from dedupe.report.history import PreviousRun
from dedupe.report.render import render_html

DEPTS = ["Alpha Agency", "Beta Bureau", "Gamma Group", "Delta Department", "Epsilon Office"]


def run(root: Path, fake: FakeEncoder, n: int, **kw):  # type: ignore[no-untyped-def]
    return run_report(
        root / "ix", load_sources(root / "sources.toml"), root / "reports", encoder=fake,
        now=night(n), **kw,
    )  # fmt: skip


def statuses(folder: Path) -> dict[tuple[str, str], str]:
    frame = pd.read_parquet(folder / "pairs.parquet")
    return {
        (a, b): s for a, b, s in zip(frame["id_a"], frame["id_b"], frame["status"], strict=True)
    }


def email_family(n: int) -> list[dict[str, str]]:
    """`n` departments' copies of one e-mail project: every pair of them is flagged."""
    return [rec(f"e{i}", "Email transformation", EMAIL, DEPTS[i]) for i in range(n)]


def test_a_pair_the_neighbour_search_misses_is_carried_not_resolved(
    tmp_path: Path, fake: FakeEncoder
) -> None:
    family = email_family(4)
    write_sources(tmp_path, alpha_rows()[2:], beta_rows()[2:] + family)
    first = run(tmp_path, fake, 0)
    before = statuses(first.folder)
    email = {k for k in before if k[0].startswith("e") and k[1].startswith("e")}
    assert len(email) == 6  # 4 copies: every pair flagged
    # One more copy, and a top-1 search: every record returns one neighbour, so most of the
    # family's pairs are not returned tonight, though no text changed (the QA case: a newcomer
    # pushing old members out of each other's top k).
    write_sources(tmp_path, alpha_rows()[2:], beta_rows()[2:] + email_family(5))
    second = run(tmp_path, fake, 1, k=1)
    after = statuses(second.folder)
    h = second.report.headline
    assert h.resolved == 0 and h.no_longer_flagged == 0
    assert h.carried >= 2  # what the search missed, scored directly
    assert all(after[k] == "persisting" for k in email)
    assert {after[k] for k in after if "e4" in k} == {"new"} and h.new >= 1
    old = pd.read_parquet(first.folder / "pairs.parquet").set_index("pair_id")["score"]
    new = pd.read_parquet(second.folder / "pairs.parquet").set_index("pair_id")["score"]
    # Carried or returned, the same texts score the same: the scorer's own score.
    assert np.allclose(new[old.index], old, atol=1e-3)
    assert np.allclose(new[old.index], new[old.index].iloc[0], atol=1e-6)
    cluster = next(c for c in first.report.clusters if "e0" in {m.id for m in c.members})
    again = {c.cluster_id: c for c in second.report.clusters}[cluster.cluster_id]
    assert again.status == "persisting" and again.new_members == ("e4",)
    assert all(c.status in ("new", "persisting") for c in second.report.clusters)


def test_score_rows_scores_as_the_all_pairs_stage(tmp_path: Path, fake: FakeEncoder) -> None:
    write_many(tmp_path, 15)
    run(tmp_path, fake, 0)
    det = Detector.open(tmp_path / "ix", encoder=fake)
    found = det.pairs(k=10, min_score=0.0)
    assert len(found) > 50 and len({round(p.score, 3) for p in found}) > 10  # varied scores
    rows = [(det.position(p.id_b), det.position(p.id_a)) for p in found]  # either order
    probs, dense = score_rows(det, rows)  # type: ignore[arg-type]
    assert np.allclose(probs, [p.score for p in found], atol=1e-6)
    assert np.allclose(dense, [p.similarity for p in found], atol=1e-5)


def _two_sources(tmp_path: Path, fake: FakeEncoder) -> tuple[Detector, dict[str, str]]:
    """The two sources' index after one night, and its records' text hashes."""
    write_sources(tmp_path, alpha_rows(), beta_rows())
    run(tmp_path, fake, 0)
    det = Detector.open(tmp_path / "ix", encoder=fake)
    return det, dict(zip(det.index.frame["id"], det.index.frame["text_hash"], strict=True))


def test_unchanged_texts_below_the_bar_are_no_longer_flagged_not_resolved(
    tmp_path: Path, fake: FakeEncoder
) -> None:
    det, hashes = _two_sources(tmp_path, fake)

    def row(a: str, b: str, cluster: str, hashed: bool = True) -> dict[str, object]:
        out: dict[str, object] = {"id_a": a, "id_b": b, "title_a": a, "score": 0.9}
        out |= {"cluster_id": cluster, "status": "persisting", "department_a": "x"}
        if hashed:
            out |= {"text_hash_a": hashes[a], "text_hash_b": hashes[b]}
        return out

    # Pairs "flagged" by an older scorer (unrelated fillers: below the bar for this one).
    previous = PreviousRun(
        "2025-01-29T020000",
        pairs={
            ("a4", "b3"): row("a4", "b3", "c-same"),  # texts as they were
            ("a5", "b4"): {**row("a5", "b4", "c-changed"), "text_hash_b": "an older text"},
            ("a5", "b3"): row("a5", "b3", "c-old-report", hashed=False),  # hashes not recorded
            ("a1", "zz"): row("a1", "a2", "c-removed") | {"id_b": "zz"},  # zz is gone
        },
        clusters={
            "c-same": frozenset({"a4", "b3"}),
            "c-changed": frozenset({"a5", "b4"}),
            "c-old-report": frozenset({"a5", "b3"}),
            "c-removed": frozenset({"a1", "zz"}),
        },
    )
    report = build_report(det, previous=previous)
    got = {(r.id_a, r.id_b): r for r in report.pairs}
    assert got[("a4", "b3")].status == "unflagged"
    assert got[("a4", "b3")].score < det.params.overlap_at and got[("a4", "b3")].tier == "below"
    assert {got[k].status for k in [("a5", "b4"), ("a5", "b3"), ("a1", "zz")]} == {"resolved"}
    h = report.headline
    assert (h.no_longer_flagged, h.resolved, h.carried) == (1, 3, 0)
    ended = {c.cluster_id: c.status for c in report.clusters}
    assert ended["c-same"] == "unflagged" and ended["c-changed"] == "resolved"
    html = render_html(report)
    assert "Pairs no longer flagged since last run (1)" in html
    assert '<span class="tag unflagged">no longer flagged</span>' in html


def test_a_pair_just_under_the_bar_with_unchanged_texts_stays_flagged(
    tmp_path: Path, fake: FakeEncoder
) -> None:
    det, hashes = _two_sources(tmp_path, fake)
    (p,), _ = score_rows(det, [(det.position("a4"), det.position("b3"))])  # type: ignore[list-item]
    row = {"id_a": "a4", "id_b": "b3", "score": 0.9, "status": "new", "cluster_id": "c1"}
    row |= {"text_hash_a": hashes["a4"], "text_hash_b": hashes["b3"]}
    changed = row | {"text_hash_b": "an older text"}
    got, carried = {}, {}
    for name, bar, before in (
        ("kept", p + KEEP_MARGIN / 2, row),  # just under tonight's bar: still flagged
        ("gone", p + KEEP_MARGIN * 2, row),  # well under it: no longer flagged
        ("changed", p + KEEP_MARGIN / 2, changed),  # a text changed: judged at the bar itself
    ):
        det.params = replace(det.params, overlap_at=bar, duplicate_at=max(bar, 0.99))
        previous = PreviousRun("2025-01-29T020000", pairs={("a4", "b3"): before})
        report = build_report(det, previous=previous)
        pairs = {(r.id_a, r.id_b): r for r in report.pairs}
        got[name] = pairs[("a4", "b3")]
        carried[name] = report.headline.carried
    assert got["kept"].status == "persisting" and got["kept"].tier == "overlap"
    assert got["kept"].score == pytest.approx(p, abs=1e-3)
    assert carried == {"kept": 1, "gone": 0, "changed": 0}
    assert got["gone"].status == "unflagged" and got["changed"].status == "resolved"


def test_merged_cluster_is_not_resolved(tmp_path: Path, fake: FakeEncoder) -> None:
    family = email_family(4)
    write_sources(tmp_path, alpha_rows()[2:], beta_rows()[2:] + family)
    run(tmp_path, fake, 0)
    det = Detector.open(tmp_path / "ix", encoder=fake)
    first = build_report(det)
    cluster = first.clusters[0]
    rows = {(p.id_a, p.id_b): p.to_json() for p in first.pairs}
    # The previous run had the family as two clusters; tonight they are one, keeping one id.
    halves = {"c-1": frozenset({"e0", "e1"}), "c-2": frozenset({"e2", "e3"})}
    for key, r in rows.items():
        r["cluster_id"] = "c-1" if key == ("e0", "e1") else "c-2"
    kept = {k: v for k, v in rows.items() if k in {("e0", "e1"), ("e2", "e3")}}
    report = build_report(det, previous=PreviousRun("x", pairs=kept, clusters=halves))
    by_id = {c.cluster_id: c for c in report.clusters}
    assert cluster.cluster_id not in by_id and by_id["c-1"].status == "persisting"
    assert by_id["c-2"].status == "merged" and by_id["c-2"].merged_into == "c-1"
    assert report.headline.resolved == 0


def test_new_since_last_run_box_summarises_every_change_with_links(
    tmp_path: Path, fake: FakeEncoder
) -> None:
    write_sources(tmp_path, alpha_rows(), beta_rows())
    run(tmp_path, fake, 0)
    quiet = run(tmp_path, fake, 1)
    box = changes_box(quiet.folder)
    assert "Nothing changed since" in box and "href" not in box
    # b2 removed (payroll pair resolved), a1-b1 dismissed, g1 joins the e-mail family (new).
    beta = [r for r in beta_rows() if r["id"] != "b2"]
    beta.append(rec("g1", "Email transformation", EMAIL, "Gamma Group"))
    write_sources(tmp_path, alpha_rows(), beta)
    busy = run(tmp_path, fake, 2, decided={("a1", "b1"): "not related by bob"})
    h = busy.report.headline
    assert (h.new, h.resolved, h.newly_dismissed) == (2, 1, 1)
    box = changes_box(busy.folder)
    assert "Nothing" not in box
    for text, anchor in [
        ("2 new cross-department pair(s)", "new-pairs-title"),
        ("1 pair(s) resolved", "resolved-pairs"),
        ("1 pair(s) dismissed by a reviewer", "dismissed-pairs"),
        ("1 cluster(s) resolved", "resolved-clusters"),
    ]:
        assert f'<a href="#{anchor}">{text}</a>' in box
    assert_anchors_unique_and_resolvable((busy.folder / "report.html").read_text())


def changes_box(folder: Path) -> str:
    html = (folder / "report.html").read_text(encoding="utf-8")
    found = re.search(r'<div class="changes" id="changes">(.*?)</div>', html, re.S)
    assert found, "no summary box"
    return found.group(1)


def assert_anchors_unique_and_resolvable(html: str) -> None:
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert set(re.findall(r'href="#([^"]+)"', html)) <= set(ids)


def test_a_grown_cluster_has_one_anchor_and_communities_name_departments_once(
    tmp_path: Path, fake: FakeEncoder
) -> None:
    write_sources(tmp_path, alpha_rows(), beta_rows())
    run(tmp_path, fake, 0)
    beta = beta_rows() + [rec("g1", "Email transformation", EMAIL, "Gamma Group", "Gil G")]
    write_sources(tmp_path, alpha_rows(), beta)
    grown = run(tmp_path, fake, 1)
    html = (grown.folder / "report.html").read_text(encoding="utf-8")
    cid = next(c.cluster_id for c in grown.report.clusters if c.new_members == ("g1",))
    assert html.count(f'id="{cid}"') == 1 and f'href="#{cid}"' in html  # shown twice, one id
    assert_anchors_unique_and_resolvable(html)
    comm = re.search(r'<div class="cluster" id="cp-001">(.*?)<details>', html, re.S)
    assert comm, "no community"
    for dept in ("Alpha Agency", "Beta Bureau", "Gamma Group"):
        assert comm.group(1).count(dept) == 1, comm.group(1)
    assert "Gil G &lt;gil.g@example.gc.ca&gt;" in comm.group(1)


def test_a_dismissed_pair_the_search_misses_is_flagged_again_once_its_decision_lapses(
    tmp_path: Path, fake: FakeEncoder
) -> None:
    write_sources(tmp_path, alpha_rows()[2:], beta_rows()[2:] + email_family(5))
    run(tmp_path, fake, 0)
    det = Detector.open(tmp_path / "ix", encoder=fake)
    found = {(p.id_a, p.id_b) for p in det.pairs(k=1) if p.score >= det.params.overlap_at}
    everything = {(p.id_a, p.id_b) for p in det.pairs(k=10) if p.score >= det.params.overlap_at}
    missed = sorted(k for k in everything - found if k[0].startswith("e"))[0]
    previous = PreviousRun("x", dismissed=frozenset({missed}))
    # The decision stands (same texts): kept dismissed, not flagged.
    standing = build_report(det, previous=previous, decided={missed: "not related by alice"}, k=1)
    assert missed not in {(r.id_a, r.id_b) for r in standing.pairs if r.status == "new"}
    # The decision lapsed (a text changed: `known_decisions` no longer returns it): flagged.
    lapsed = build_report(det, previous=previous, decided={}, k=1)
    got = {(r.id_a, r.id_b): r.status for r in lapsed.pairs}
    assert got.get(missed) == "new"
    without = build_report(det, previous=PreviousRun("x"), decided={}, k=1)
    assert missed not in {(r.id_a, r.id_b) for r in without.pairs}  # what the fix adds
