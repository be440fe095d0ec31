"""`report.html`: one self-contained page (inline CSS and SVG, no script, no network).

Jinja2 renders with autoescaping on, so every title, department, owner and reason from the data
is shown as text. Chart geometry (heat-map cells, bars) is computed here; the template only
places it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import jinja2

from dedupe.report.model import (
    ACTIVE,
    DISMISSED,
    MERGED,
    NEW,
    RESOLVED,
    UNFLAGGED,
    Cluster,
    PairRow,
    Report,
)

HEAT_MAX = 20  # departments on the heat map axes
BAR_MAX = 15
TABLE_MAX = 1500  # pair rows per table in the HTML (files hold them all)
CLUSTER_MAX = 300  # cluster boxes in the HTML (clusters.csv holds them all)
CELL = 24
LABEL_W = 260
TOP_H = 180
BAR_W = 460
BAR_H = 22


@dataclass(frozen=True)
class HeatCell:
    x: int
    y: int
    fill: str
    ink: str  # text colour readable on `fill`
    count: int
    title: str


@dataclass(frozen=True)
class Bar:
    y: int
    width: int
    label: str
    full: str
    count: int


def _clip(text: str, n: int = 38) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _shade(value: int, top: int) -> str:
    if value <= 0 or top <= 0:
        return "#f3f4f6"
    t = math.sqrt(value / top)
    lo, hi = (222, 235, 247), (8, 48, 107)
    r, g, b = (round(a + (c - a) * t) for a, c in zip(lo, hi, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def heatmap(report: Report) -> dict[str, object]:
    depts = list(report.departments[:HEAT_MAX])
    n = len(depts)
    top = max((report.matrix[i][j] for i in range(n) for j in range(n)), default=0)
    cells = [
        HeatCell(
            x=LABEL_W + j * CELL,
            y=TOP_H + i * CELL,
            fill=_shade(report.matrix[i][j], top),
            ink="#ffffff" if top and report.matrix[i][j] / top > 0.3 else "#111111",
            count=report.matrix[i][j],
            title=f"{depts[i]} × {depts[j]}: {report.matrix[i][j]} pair(s)",
        )
        for i in range(n)
        for j in range(n)
    ]
    return {
        "cells": cells,
        "rows": [(TOP_H + i * CELL + CELL // 2 + 4, _clip(d), d) for i, d in enumerate(depts)],
        "cols": [(LABEL_W + j * CELL + CELL // 2, _clip(d, 28), d) for j, d in enumerate(depts)],
        "width": LABEL_W + n * CELL + 130,  # room for the last slanted column labels
        "height": TOP_H + n * CELL + 10,
        "cell": CELL,
        "top_y": TOP_H - 6,
        "label_x": LABEL_W - 10,
        "shown": n,
        "total": len(report.departments),
    }


def bars(report: Report) -> dict[str, object]:
    totals = sorted(report.department_totals(), key=lambda kv: (-kv[1], kv[0]))[:BAR_MAX]
    top = max((c for _, c in totals), default=0)
    items = [
        Bar(
            y=i * (BAR_H + 6),
            width=max(2, round(BAR_W * c / top)) if top else 0,
            label=_clip(d),
            full=d,
            count=c,
        )
        for i, (d, c) in enumerate(totals)
    ]
    return {
        "bars": items,
        "label_w": LABEL_W,
        "bar_h": BAR_H,
        "width": LABEL_W + BAR_W + 60,
        "height": len(items) * (BAR_H + 6) + 4,
    }


def money(value: float | None) -> str:
    if value is None:
        return "–"
    return f"${value:,.0f}"


def status_label(status: str) -> str:
    """A status as the page says it."""
    return {UNFLAGGED: "no longer flagged"}.get(status, status)


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dedupe.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = money
    env.filters["status_label"] = status_label
    return env


# What became of pairs and clusters flagged last run and not tonight, a section each:
# (status, section id, "Pairs … since last run", what it means).
ENDED = (
    (RESOLVED, "resolved", "resolved", "an initiative was removed or its text changed"),
    (DISMISSED, "dismissed", "dismissed by a reviewer", "reviewers decided: not related"),
    (
        UNFLAGGED,
        "unflagged",
        "no longer flagged",
        "both texts unchanged, but the scorer now puts the pair below the flag bar",
    ),
    (MERGED, "merged", "merged into another", "still flagged, inside the cluster named"),
)


@dataclass(frozen=True)
class Ended:
    """Pairs or clusters of one ended status, as a section of the page."""

    status: str
    anchor: str  # the section's id
    phrase: str  # "Pairs {phrase} since last run"
    meaning: str
    items: tuple[object, ...]


def render_html(report: Report) -> str:
    """The report page as one HTML string."""
    cross = list(report.pairs)
    current = [c for c in report.clusters if c.status in ACTIVE]
    shown = {c.cluster_id for c in current[:CLUSTER_MAX]}
    return (
        _env()
        .get_template("report.html.j2")
        .render(
            r=report,
            h=report.headline,
            new_pairs=[p for p in cross if p.status == NEW],
            current_pairs=[p for p in cross if p.status in ACTIVE],
            ended_pairs=_ended(cross, "pairs"),
            same_pairs=[p for p in report.same_department if p.status in ACTIVE],
            new_clusters=[c for c in current if c.status == NEW],
            grown_clusters=[c for c in current if c.status != NEW and c.new_members],
            clusters=current,
            shown_clusters=shown,
            cluster_max=CLUSTER_MAX,
            ended_clusters=_ended(report.clusters, "clusters"),
            heat=heatmap(report),
            bar=bars(report),
            table_max=TABLE_MAX,
        )
    )


def _ended(items: Sequence[PairRow] | Sequence[Cluster], kind: str) -> list[Ended]:
    """The non-empty sections of pairs (or clusters) ended since last run, in `ENDED` order."""
    out = []
    for status, anchor, phrase, meaning in ENDED:
        mine = tuple(i for i in items if i.status == status)
        if mine:
            out.append(Ended(status, f"{anchor}-{kind}", phrase, meaning, mine))
    return out
