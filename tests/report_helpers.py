"""Shared builders for the report tests: a two-source portfolio with known overlaps."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

EMAIL = (
    "Consolidate departmental email systems onto one shared email platform with mailbox migration."
)
PAYROLL = (
    "Replace the legacy payroll system that pays every employee with a modern payroll service."
)
GRANTS = (
    "Grants management system to receive applications, assess eligibility and pay grant recipients."
)

# Fillers: vocabularies that share no words, so the fake encoder never pairs them.
FILLERS = [
    "Satellite weather radar calibration campaign",
    "Fishing vessel inspection tablets offshore",
    "Museum artefact digitisation photography",
    "Highway bridge corrosion sensors",
    "Wildfire smoke forecasting atmosphere",
    "Passport photo booth kiosks airports",
]

COLUMNS = ["id", "title", "description", "department", "owner_name", "owner_email"]
T0 = datetime(2025, 1, 30, 2, 0, 0)


def rec(rid: str, title: str, description: str, department: str, owner: str = "") -> dict[str, str]:
    return {
        "id": rid,
        "title": title,
        "description": description,
        "department": department,
        "owner_name": owner,
        "owner_email": f"{owner.lower().replace(' ', '.')}@example.gc.ca" if owner else "",
    }


def alpha_rows() -> list[dict[str, str]]:
    return [
        rec("a1", "Email transformation", EMAIL, "Alpha Agency", "Ann Alpha"),
        rec("a2", "Payroll modernization", PAYROLL, "Alpha Agency", "Al Pay"),
        rec("a3", "Grants management", GRANTS, "Alpha Agency"),
        rec("a4", FILLERS[0], FILLERS[0] + " programme.", "Alpha Agency"),
        rec("a5", FILLERS[1], FILLERS[1] + " programme.", "Alpha Agency"),
    ]


def beta_rows() -> list[dict[str, str]]:
    return [
        rec("b1", "Email transformation", EMAIL, "Beta Bureau", "Bo Beta"),
        rec("b2", "Payroll modernization", PAYROLL, "Beta Bureau", "Bea Pay"),
        rec("b3", FILLERS[2], FILLERS[2] + " programme.", "Beta Bureau"),
        rec("b4", FILLERS[3], FILLERS[3] + " programme.", "Beta Bureau"),
    ]


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_sources(root: Path, alpha: list[dict[str, str]], beta: list[dict[str, str]]) -> Path:
    write_rows(root / "exports" / "alpha.csv", alpha)
    write_rows(root / "exports" / "beta" / "beta-2025.csv", beta)
    toml = root / "sources.toml"
    toml.write_text(
        '[[source]]\nname = "alpha"\npath = "exports/alpha.csv"\n\n'
        '[[source]]\nname = "beta"\npath = "exports/beta/*.csv"\nformat = "csv"\n',
        encoding="utf-8",
    )
    return toml


def night(n: int) -> datetime:
    return T0 + timedelta(days=n)


TOPICS = [
    "payroll pay employees salary compensation",
    "email mailbox migration messaging platform",
    "grants applications eligibility funding recipients",
    "licence permit renewal online portal",
    "case management client files workflow",
    "learning management training courses enrolment",
    "weather radar satellite forecasting data",
    "fisheries vessel inspection catch quota",
    "passport identity document biometrics appointments",
    "tax return filing assessment refunds",
]
DEPARTMENTS = ["Alpha Agency", "Beta Bureau", "Gamma Group", "Delta Department"]


def many_rows(n: int, dept: str, prefix: str, seed: int = 0) -> list[dict[str, str]]:
    """`n` initiatives of one department on the shared topics: many cross-department pairs."""
    import random

    rng = random.Random(f"{prefix}{seed}")
    rows = []
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)].split()
        words = rng.sample(topic, 4) + [f"{prefix}x{i}", f"w{rng.randrange(50)}"]
        rows.append(
            rec(
                f"{prefix}{i}",
                " ".join(words[:3]).capitalize(),
                "A system for " + " ".join(words) + ". " + " ".join(rng.sample(topic, 3)) + ".",
                dept,
                f"Owner {prefix}{i % 7}",
            )
        )
    return rows


def write_many(root: Path, n_per_source: int, seed: int = 0) -> Path:
    """Four department sources of `n_per_source` rows each, plus their sources.toml."""
    lines = []
    for dept in DEPARTMENTS:
        name = dept.split()[0].lower()
        write_rows(root / "exports" / f"{name}.csv", many_rows(n_per_source, dept, name[0], seed))
        lines.append(f'[[source]]\nname = "{name}"\npath = "exports/{name}.csv"\n')
    toml = root / "sources.toml"
    toml.write_text("\n".join(lines), encoding="utf-8")
    return toml
