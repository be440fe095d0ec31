"""The nightly report (fake encoder): statuses, stable ids, failed sources, cache, escaping."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from report_helpers import FILLERS, GRANTS, alpha_rows, beta_rows, night, rec, write_sources

from dedupe import Detector, pair_key
from dedupe.embed.fake import FakeEncoder
from dedupe.errors import ConfigError, IndexLockedError
from dedupe.report import load_sources, pair_id, report_lock, run_report


def run(root: Path, fake: FakeEncoder, n: int, **kw):  # type: ignore[no-untyped-def]
    return run_report(
        root / "ix",
        load_sources(root / "sources.toml"),
        root / "reports",
        encoder=fake,
        now=night(n),
        **kw,
    )


def pairs_by_key(folder: Path) -> dict[tuple[str, str], dict[str, object]]:
    frame = pd.read_parquet(folder / "pairs.parquet")
    return {(r["id_a"], r["id_b"]): r for r in frame.to_dict(orient="records")}


def test_two_runs_give_new_persisting_resolved_and_stable_cluster_ids(
    tmp_path: Path, fake: FakeEncoder
) -> None:
    write_sources(tmp_path, alpha_rows(), beta_rows())
    first = run(tmp_path, fake, 0)
    assert first.exit_code == 0
    h = first.report.headline
    assert (h.initiatives, h.departments, h.pairs_flagged, h.new, h.resolved) == (9, 2, 2, 2, 0)
    one = pairs_by_key(first.folder)
    assert set(one) == {("a1", "b1"), ("a2", "b2")}
    assert {p["status"] for p in one.values()} == {"new"}
    email_cluster = next(
        c for c in first.report.clusters if {m.id for m in c.members} == {"a1", "b1"}
    )
    payroll_cluster = next(
        c for c in first.report.clusters if {m.id for m in c.members} == {"a2", "b2"}
    )
    assert (
        len(first.report.clusters) == 2 and email_cluster.status == payroll_cluster.status == "new"
    )

    # Night 2: g1 added (joins the e-mail cluster from a third department), b2 removed
    # (payroll pair resolved), b3 changed into a grants system (a new pair with a3).
    beta = [r for r in beta_rows() if r["id"] != "b2"]
    beta[1] = rec("b3", "Grants management", GRANTS + " Online portal.", "Beta Bureau", "Bo Beta")
    beta.append(rec("g1", "Email transformation", alpha_rows()[0]["description"], "Gamma Group"))
    write_sources(tmp_path, alpha_rows(), beta)
    second = run(tmp_path, fake, 1)
    assert second.report.previous_run == first.folder.name
    two = pairs_by_key(second.folder)
    assert two[("a1", "b1")]["status"] == "persisting"
    assert two[("a2", "b2")]["status"] == "resolved"
    assert two[("a3", "b3")]["status"] == "new"
    assert two[("a1", "g1")]["status"] == "new" and two[("b1", "g1")]["status"] == "new"
    assert two[("a1", "b1")]["pair_id"] == one[("a1", "b1")]["pair_id"] == pair_id("b1", "a1")
    h = second.report.headline
    assert (h.pairs_flagged, h.new, h.persisting, h.resolved) == (4, 3, 1, 1)

    clusters2 = pd.read_parquet(second.folder / "clusters.parquet").set_index("cluster_id")
    grown = clusters2.loc[email_cluster.cluster_id]
    assert grown["status"] == "persisting" and sorted(grown["member_ids"]) == ["a1", "b1", "g1"]
    assert list(grown["new_members"]) == ["g1"]
    assert clusters2.loc[payroll_cluster.cluster_id, "status"] == "resolved"
    grants = clusters2[[sorted(m) == ["a3", "b3"] for m in clusters2["member_ids"]]]
    assert list(grants["status"]) == ["new"]
    assert "grants" in grants["label"].iloc[0]
    # Every pair of the grown cluster carries its (inherited) cluster id.
    assert two[("b1", "g1")]["cluster_id"] == email_cluster.cluster_id
    assert (tmp_path / "reports" / "latest").resolve() == second.folder.resolve()
    summary = json.loads((second.folder / "summary.json").read_text())
    assert summary["headline"]["new"] == 3 and summary["previous_run"] == first.folder.name

    # Night 3, nothing changed: everything persists, nothing is new or resolved twice.
    third = run(tmp_path, fake, 2)
    h = third.report.headline
    assert (h.new, h.resolved, h.persisting, h.new_clusters) == (0, 0, 4, 0)
    three = pd.read_parquet(third.folder / "clusters.parquet")
    assert set(three["cluster_id"]) == set(clusters2.index) - {payroll_cluster.cluster_id}


def test_rerun_with_nothing_changed_embeds_nothing(tmp_path: Path, fake: FakeEncoder) -> None:
    write_sources(tmp_path, alpha_rows(), beta_rows())
    run(tmp_path, fake, 0)
    encoded = fake.n_encoded
    again = run(tmp_path, fake, 1)
    assert fake.n_encoded == encoded  # neither records nor the reasons' sentences
    assert again.report.ingest["embedded"] == 0 and again.report.ingest["unchanged"] == 9


def test_broken_source_is_reported_and_its_records_survive(
    tmp_path: Path, fake: FakeEncoder
) -> None:
    write_sources(tmp_path, alpha_rows(), beta_rows())
    run(tmp_path, fake, 0)
    bad = tmp_path / "exports" / "beta" / "beta-2025.csv"
    bad.write_bytes(b"PK\x03\x04 this is not a spreadsheet")
    (tmp_path / "sources.toml").write_text(
        (tmp_path / "sources.toml").read_text().replace('format = "csv"', 'format = "xlsx"')
    )
    result = run(tmp_path, fake, 1)
    assert result.exit_code == 4
    failed = result.report.failed_sources
    assert [s.name for s in failed] == ["beta"] and "beta-2025.csv" in failed[0].reason
    ids = {r.id for r in Detector.open(tmp_path / "ix", encoder=fake).records}
    assert {"b1", "b2", "b3", "b4"} <= ids  # kept, not deleted
    assert result.report.headline.sources_failed == 1
    assert pairs_by_key(result.folder)[("a1", "b1")]["status"] == "persisting"
    summary = json.loads((result.folder / "summary.json").read_text())
    assert summary["sources"][1]["status"] == "failed"
    assert "beta-2025.csv" in (result.folder / "report.html").read_text()


def test_decided_pairs_are_not_new(tmp_path: Path, fake: FakeEncoder) -> None:
    write_sources(tmp_path, alpha_rows(), beta_rows())
    result = run(tmp_path, fake, 0, decided=[("b1", "a1")])
    rows = pairs_by_key(result.folder)
    assert rows[("a1", "b1")]["status"] == "persisting" and rows[("a1", "b1")]["decided"]
    assert rows[("a2", "b2")]["status"] == "new" and not rows[("a2", "b2")]["decided"]
    assert result.report.headline.new == 1


def test_titles_are_escaped_in_html_and_csv_cells_neutralised(
    tmp_path: Path, fake: FakeEncoder
) -> None:
    alpha = alpha_rows()
    alpha[0]["title"] = "<script>alert('x')</script> Email transformation"
    beta = beta_rows()
    beta[0]["title"] = '=HYPERLINK("http://evil") Email transformation'
    write_sources(tmp_path, alpha, beta)
    result = run(tmp_path, fake, 0)
    html = (result.folder / "report.html").read_text()
    assert "<script>" not in html and "&lt;script&gt;alert(" in html
    assert '<svg id="heatmap"' in html
    assert not re.search(r"<script|<link|\bsrc=|href=\"?https?:", html)  # self-contained, no JS
    csv_text = (result.folder / "pairs.csv").read_text()
    assert "'=HYPERLINK" in csv_text


def test_first_cluster_id_is_deterministic_and_pair_ids_stable(
    tmp_path: Path, fake: FakeEncoder
) -> None:
    write_sources(tmp_path, alpha_rows(), beta_rows())
    a = run(tmp_path, fake, 0)
    b = run_report(
        tmp_path / "ix",
        load_sources(tmp_path / "sources.toml"),
        tmp_path / "other",
        encoder=fake,
        now=night(0),
    )
    assert [c.cluster_id for c in a.report.clusters] == [c.cluster_id for c in b.report.clusters]
    assert pair_key("b", "a") == ("a", "b") and pair_id("a", "b") == pair_id("b", "a")


def test_sources_file_problems_are_reported_at_once(tmp_path: Path) -> None:
    toml = tmp_path / "sources.toml"
    toml.write_text(
        '[[source]]\nname = "a"\npath = "x.csv"\nformat = "docx"\ncolour = "red"\n\n'
        '[[source]]\nname = "a"\nmapping = "nope.toml"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_sources(toml)
    msg = str(info.value)
    for part in ("'docx'", "colour", "duplicate name 'a'", "'path' is required", "nope.toml"):
        assert part in msg


def test_second_run_on_a_locked_index_fails_clearly(tmp_path: Path, fake: FakeEncoder) -> None:
    write_sources(tmp_path, alpha_rows(), beta_rows())
    held = report_lock(tmp_path / "ix")
    held.acquire()
    try:
        with pytest.raises(IndexLockedError, match="another dedupe run"):
            run(tmp_path, fake, 0)
    finally:
        held.release()


def test_a_run_killed_while_writing_leaves_the_previous_report(
    tmp_path: Path, fake: FakeEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_sources(tmp_path, alpha_rows(), beta_rows())
    first = run(tmp_path, fake, 0)

    def boom(report: object) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr("dedupe.report.output.render_html", boom)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, fake, 1)
    reports = tmp_path / "reports"
    assert sorted(p.name for p in reports.iterdir() if p.name != ".lock") == sorted(
        [first.folder.name, "latest"]
    )
    assert (reports / "latest").resolve() == first.folder.resolve()
    monkeypatch.undo()
    assert run(tmp_path, fake, 2).report.previous_run == first.folder.name


def test_cli_report_exit_codes_and_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from dedupe.cli import app

    write_sources(
        tmp_path, alpha_rows(), beta_rows() + [rec("b9", FILLERS[4], FILLERS[4], "Beta Bureau")]
    )
    args = [
        "report",
        "--index",
        str(tmp_path / "ix"),
        "--sources",
        str(tmp_path / "sources.toml"),
        "--out",
        str(tmp_path / "reports"),
        "--encoder",
        "fake",
        "--json",
    ]
    ok = CliRunner().invoke(app, args)
    assert ok.exit_code == 0, ok.output
    data = json.loads(ok.stdout)
    assert data["headline"]["pairs_flagged"] == 2 and Path(data["folder"], "report.html").exists()
    import dedupe.report as report_pkg

    seen: list[bool] = []
    real_run = report_pkg.run_report

    def spy(*a: Any, **kw: Any) -> Any:
        seen.append(kw["exact"])
        return real_run(*a, **kw)

    monkeypatch.setattr(report_pkg, "run_report", spy)
    exact = CliRunner().invoke(app, [*args, "--exact"])
    assert exact.exit_code == 0, exact.output
    assert seen == [True] and json.loads(exact.stdout)["headline"]["pairs_flagged"] == 2
    monkeypatch.undo()
    (tmp_path / "exports" / "alpha.csv").unlink()
    failed = CliRunner().invoke(app, args)
    assert failed.exit_code == 4
    assert json.loads(failed.stdout)["sources"][0]["reason"].startswith("no file matches")
    bad = CliRunner().invoke(app, [*args[:3], "--sources", str(tmp_path / "missing.toml")])
    assert bad.exit_code == 1


def test_pairs_reviewers_called_not_related_are_not_flagged(
    tmp_path: Path, fake: FakeEncoder
) -> None:
    write_sources(tmp_path, alpha_rows(), beta_rows())
    first = run(tmp_path, fake, 0)
    decided = {("a2", "b2"): "not related by alice, bob", ("a1", "b1"): "conflict: x; y"}
    second = run(tmp_path, fake, 1, decided=decided)
    rows = pairs_by_key(second.folder)
    # Flagged last night, dismissed tonight: its own status, counted once, never "resolved".
    assert rows[("a2", "b2")]["status"] == "dismissed"
    assert rows[("a2", "b2")]["decision"] == "not related by alice, bob"
    assert rows[("a1", "b1")]["status"] == "persisting"
    h = second.report.headline
    assert (h.pairs_flagged, h.dismissed, h.newly_dismissed, h.resolved) == (1, 1, 1, 0)
    payroll = next(c for c in first.report.clusters if "a2" in {m.id for m in c.members})
    ended = {c.cluster_id: c.status for c in second.report.clusters}
    assert ended[payroll.cluster_id] == "dismissed" and "resolved" not in ended.values()
    html = (second.folder / "report.html").read_text(encoding="utf-8")
    assert "Pairs dismissed by a reviewer since last run (1)" in html
    assert "Clusters dismissed by a reviewer since last run (1)" in html
    assert "Pairs resolved since" not in html and "Clusters resolved since" not in html
    assert 'href="#dismissed-pairs"' in html  # the "New since last run" box points to it

    third = run(tmp_path, fake, 2, decided=decided)  # listed once: history the next night
    h = third.report.headline
    assert (h.dismissed, h.newly_dismissed, h.resolved) == (1, 0, 0)
    assert ("a2", "b2") not in pairs_by_key(third.folder)
    assert payroll.cluster_id not in {c.cluster_id for c in third.report.clusters}


def test_budgets_at_stake_and_communities_across_three_departments(
    tmp_path: Path, fake: FakeEncoder
) -> None:
    import csv

    alpha, beta = alpha_rows(), beta_rows()
    gamma = [rec("g1", "Email transformation", alpha[0]["description"], "Gamma Group", "Gil G")]
    budgets = {"a1": "$1.5M", "b1": "250000", "a2": "40,000"}  # a2 is clustered, b2 not known
    for name, rows in (("alpha", alpha), ("beta", beta + gamma)):
        path = tmp_path / "exports" / f"{name}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=[*rows[0], "budget"])
            w.writeheader()
            w.writerows({**r, "budget": budgets.get(r["id"], "")} for r in rows)
    (tmp_path / "sources.toml").write_text(
        '[[source]]\nname = "alpha"\npath = "exports/alpha.csv"\n'
        '[[source]]\nname = "beta"\npath = "exports/beta.csv"\n',
        encoding="utf-8",
    )
    result = run(tmp_path, fake, 0)
    h = result.report.headline
    assert h.budget_at_stake == 1_500_000 + 250_000 + 40_000 and h.budget_known == 3
    email = next(c for c in result.report.clusters if "a1" in {m.id for m in c.members})
    assert email.budget == 1_750_000 and len(email.departments) == 3
    comm = next(c for c in result.report.communities if "g1" in {m.id for m in c.members})
    assert {"Alpha Agency", "Beta Bureau", "Gamma Group"} <= set(comm.departments)
    assert "Gil G <gil.g@example.gc.ca> (Gamma Group)" in comm.people
    frame = pd.read_parquet(result.folder / "communities.parquet")
    assert "g1" in set(frame["member_ids"].explode())
    html = (result.folder / "report.html").read_text(encoding="utf-8")
    assert "$1,790,000" in html and "Communities of practice" in html
