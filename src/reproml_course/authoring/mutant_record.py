"""The record of the mutants' scores: ``tests/checks/mutants/<id>.yaml``, one file per exercise,
with the digest of what its score depends on, its counts and its survivors with their reasons;
and the verdict on it (``THRESHOLD``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reproml_course.authoring.mutants import Score

THRESHOLD = 0.90  # of the mutants that are not equivalent, the share a check must kill
RECORD = Path("tests/checks/mutants")  # one YAML file per exercise: 4.1.yaml


def read_record(folder: Path) -> dict:
    """Exercise id -> its entry, from the folder's ``<id>.yaml`` files."""
    import yaml

    if not folder.is_dir():
        return {}
    return {p.stem: yaml.safe_load(p.read_text()) or {} for p in sorted(folder.glob("*.yaml"))}


def merge_scores(record: dict, scores: list[Score]) -> None:
    """The new scores into ``record``, keeping the reasons already given for survivors that
    still survive."""
    for score in scores:
        if score.problem:
            continue
        reasons = {s["mutant"]: s for s in record.get(score.id, {}).get("survivors", [])}
        record[score.id] = {
            "digest": score.digest,
            "mutants": score.mutants,
            "killed": score.killed,
            "survivors": [
                reasons.get(key, {"mutant": key, "kind": "", "why": ""}) for key in score.survivors
            ],
        }


HEADER = """\
# The mutants of exercise {id}'s solution that its check lets through, from
# `reproml-course mutants {id} --write` (docs/instructor.md, "How a check is judged").
# kind: equivalent (no answer could tell it from the solution) or acceptable (a
# difference the exercise does not ask for); why: the reason, for a reviewer.
"""


def write_record(folder: Path, record: dict, ids: list[str]) -> None:
    """One file per exercise, so that exercises are scored and explained independently."""
    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    for id in ids:
        if id in record:
            text = yaml.safe_dump(record[id], sort_keys=False, allow_unicode=True, width=100)
            (folder / f"{id}.yaml").write_text(HEADER.format(id=id) + text)


def verdict(entry: dict) -> tuple[float, list[str]]:
    """(score among the mutants that are not equivalent, survivors with no reason)."""
    survivors = entry.get("survivors", [])
    equivalent = sum(s.get("kind") == "equivalent" and bool(s.get("why")) for s in survivors)
    unexplained = [s["mutant"] for s in survivors if not s.get("kind") or not s.get("why")]
    judged = entry["mutants"] - equivalent
    return (entry["killed"] / judged if judged else 1.0), unexplained


def format_table(record: dict, ids: list[str]) -> str:
    rows = [("exercise", "mutants", "killed", "equivalent", "acceptable", "score", "unexplained")]
    for id in ids:
        entry = record.get(id)
        if entry is None:
            rows.append((id, "-", "-", "-", "-", "not run", "-"))
            continue
        kinds = [s.get("kind") for s in entry.get("survivors", [])]
        value, unexplained = verdict(entry)
        rows.append(
            (id, str(entry["mutants"]), str(entry["killed"]), str(kinds.count("equivalent")),
             str(kinds.count("acceptable")), f"{value:.0%}", str(len(unexplained)))
        )  # fmt: skip
    width = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, width, strict=True)) for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def failures(record: dict, ids: list[str]) -> list[str]:
    problems = []
    for id in ids:
        entry = record.get(id)
        if entry is None:
            problems.append(f"{id}: not scored")
            continue
        value, unexplained = verdict(entry)
        if value < THRESHOLD:
            problems.append(f"{id}: the check kills {value:.0%} of its mutants (< {THRESHOLD:.0%})")
        for key in unexplained:
            problems.append(f"{id}: survivor with no reason: {key}")
    return problems
