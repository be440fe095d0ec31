"""Writing a report folder atomically and swapping the `latest` link.

The folder is written under a hidden temporary name, renamed to `<YYYY-MM-DDTHHMMSS>` in one
step, and only then is `latest` replaced (a new symlink renamed over the old one). A run killed at
any point leaves the previous report and `latest` intact; leftover temporary folders are removed
by the next run.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

import pandas as pd

from dedupe.csvsafe import write_csv
from dedupe.report.history import LATEST
from dedupe.report.model import Cluster, Community, PairRow, Report
from dedupe.report.render import render_html

log = logging.getLogger(__name__)

TMP_PREFIX = ".tmp-report-"


def pairs_frame(rows: list[PairRow]) -> pd.DataFrame:
    columns = list(PairRow.__dataclass_fields__)
    return pd.DataFrame([r.to_json() for r in rows], columns=columns)


def clusters_frame(clusters: list[Cluster]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "cluster_id": c.cluster_id,
                "status": c.status,
                "label": c.label,
                "size": len(c.members),
                "n_departments": len(c.departments),
                "departments": list(c.departments),
                "member_ids": [m.id for m in c.members],
                "titles": [m.title for m in c.members],
                "owners": list(c.owners),
                "new_members": list(c.new_members),
                "max_score": c.max_score,
                "n_pairs": c.n_pairs,
                "budget": c.budget,
                "merged_into": c.merged_into,
            }
            for c in clusters
        ],
        columns=[
            "cluster_id",
            "status",
            "label",
            "size",
            "n_departments",
            "departments",
            "member_ids",
            "titles",
            "owners",
            "new_members",
            "max_score",
            "n_pairs",
            "budget",
            "merged_into",
        ],
    )


def communities_frame(communities: list[Community]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "community_id": c.community_id,
                "label": c.label,
                "size": len(c.members),
                "n_departments": len(c.departments),
                "departments": list(c.departments),
                "member_ids": [m.id for m in c.members],
                "titles": [m.title for m in c.members],
                "people": list(c.people),
                "departments_without_owner": list(c.departments_without_owner),
            }
            for c in communities
        ],
        columns=[
            "community_id",
            "label",
            "size",
            "n_departments",
            "departments",
            "member_ids",
            "titles",
            "people",
            "departments_without_owner",
        ],
    )


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    """List cells joined with '; ' for CSV."""
    out = frame.copy()
    for col in out.columns:
        if len(out) and isinstance(out[col].iloc[0], list):
            out[col] = ["; ".join(str(v) for v in cell) for cell in out[col]]
    return out


def write_report(report: Report, out_dir: str | Path) -> Path:
    """Write every file of `report` into `out_dir/<run_id>` and point `out_dir/latest` at it."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob(TMP_PREFIX + "*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = out / f"{TMP_PREFIX}{report.run_id}-{os.getpid()}"
    tmp.mkdir()
    try:
        frames = {
            "pairs": pairs_frame(list(report.pairs) + list(report.same_department)),
            "clusters": clusters_frame(list(report.clusters)),
            "communities": communities_frame(list(report.communities)),
        }
        for name, frame in frames.items():
            frame.to_parquet(tmp / f"{name}.parquet", index=False)
            write_csv(_flat(frame), tmp / f"{name}.csv")
        (tmp / "summary.json").write_text(
            json.dumps(report.summary_json(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        (tmp / "report.html").write_text(render_html(report), encoding="utf-8")
        _readable(tmp)
        final = _free_name(out, report.run_id)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _point_latest(out, final.name)
    log.info("report written to %s", final)
    return final


def _readable(folder: Path) -> None:
    """Files as `open()` would create them (umask), not 0600 as atomic temp files are: a report
    folder is meant to be shared (web server, file share)."""
    umask = os.umask(0)
    os.umask(umask)
    for f in folder.iterdir():
        f.chmod(0o666 & ~umask)
    folder.chmod(0o777 & ~umask)


def _free_name(out: Path, run_id: str) -> Path:
    final, n = out / run_id, 1
    while final.exists():
        n += 1
        final = out / f"{run_id}-{n}"
    return final


def _point_latest(out: Path, target: str) -> None:
    link = out / LATEST
    tmp_link = out / f".{LATEST}-{os.getpid()}"
    tmp_link.unlink(missing_ok=True)
    os.symlink(target, tmp_link)  # relative: the reports folder can be moved as a whole
    os.replace(tmp_link, link)
