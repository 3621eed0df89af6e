"""The mutation score of a check: a real kernel runs a real check on each mutant."""

import nbformat
import pytest

from reproml_course.authoring import mutant_record as r
from reproml_course.authoring import mutants as m
from reproml_course.base.notebooks import write_notebook

COUNTS = """from reproml.data import CLASSES

def class_counts(labels):
    ### BEGIN SOLUTION: count each class
    unused = 1
    return {name: int((labels == i).sum()) for i, name in enumerate(CLASSES)}
    ### END SOLUTION"""


@pytest.fixture
def solutions(tmp_path):
    cells = ["from reproml_course import checks", COUNTS, "checks.exercise_0_1(class_counts)"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    folder = tmp_path / "solutions"
    folder.mkdir()
    write_notebook(nb, folder / "00_counts.ipynb")
    return folder


def test_the_exercise_and_its_mutants_are_found(solutions):
    (code,) = m.exercise_code(solutions).values()
    assert (code.id, code.first, code.check) == ("0.1", 1, 2)
    keys = [mutant.key for mutant in code.mutants]
    assert "cell 1, line 5: `unused = 1` -> `unused = 2`" in keys
    assert any("labels != i" in key for key in keys)
    assert m.require_exercises({"0.1": code}, []) == ["0.1"]
    with pytest.raises(Exception, match=r"No exercise 7\.7"):
        m.require_exercises({"0.1": code}, ["7.7"])


@pytest.mark.slow
def test_killed_mutants_and_survivors_are_counted(solutions, tmp_path):
    (code,) = m.exercise_code(solutions).values()
    score = m.score_exercise(code, timeout=120)
    assert score.problem is None
    assert score.mutants == len(code.mutants) and score.killed == score.mutants - 3
    assert sorted(score.survivors) == sorted(
        f"cell 1, line 5: `unused = 1` -> `{after}`"
        for after in ("unused = 2", "unused = None", "pass")
    )
    record = tmp_path / "mutants"
    scores = {}
    r.merge_scores(scores, [score])
    r.write_record(record, scores, ["0.1"])
    assert [p.name for p in record.iterdir()] == ["0.1.yaml"]
    entry = r.read_record(record)["0.1"]
    assert r.verdict(entry)[1] == score.survivors  # no reasons yet
    assert any("survivor with no reason" in p for p in r.failures(r.read_record(record), ["0.1"]))


def test_a_score_counts_only_the_mutants_that_are_not_equivalent():
    survivors = [
        {"mutant": "a", "kind": "equivalent", "why": "same value"},
        {"mutant": "b", "kind": "acceptable", "why": "not asked for"},
    ]
    entry = {"mutants": 21, "killed": 19, "survivors": survivors}
    assert r.verdict(entry) == (19 / 20, [])
    assert r.failures({"1.1": entry}, ["1.1"]) == []
    entry["killed"] = 17
    assert r.failures({"1.1": entry}, ["1.1"]) == [
        "1.1: the check kills 85% of its mutants (< 90%)"
    ]
    survivors.append({"mutant": "c", "kind": "equivalent", "why": ""})
    assert r.verdict(entry)[1] == ["c"]
    table = r.format_table({"1.1": entry}, ["1.1", "2.1"])
    assert "not run" in table and "1.1" in table


def test_every_course_exercise_has_mutants():
    from reproml_course.base.paths import course_dir
    from reproml_course.checks import EXERCISES

    codes = m.exercise_code(course_dir("solutions"))
    graded = {id for id in EXERCISES if ".Q" not in id and not id.startswith("99.")}
    assert set(codes) == graded
    assert all(code.mutants for code in codes.values())
