"""Mutants of a solution cell: only the student's lines, the operators the issue asks for,
and nothing a check should not judge (messages, docstrings, annotations)."""

from reproml_course.authoring.mutation import cell_mutants, solution_lines

FUNCTION = '''import json

def best(values: list[float], floor=0.5) -> float:
    """The best value over the floor."""
    ### BEGIN SOLUTION: the best value
    if not values:
        raise ValueError("no values at all")
    kept = [v for v in values if v > floor and v is not None]
    print("kept", len(kept))
    return max(kept, default=floor)
    ### END SOLUTION
'''


def changes(source: str) -> list[str]:
    return [m.key.split(": ", 1)[1] for m in cell_mutants(7, source)]


def test_only_the_lines_between_the_markers_are_mutated():
    assert solution_lines(FUNCTION.split("\n")) == {6, 7, 8, 9, 10}
    found = changes(FUNCTION)
    assert found and all("floor=0.5" not in c.split(" -> ")[0] for c in found)
    assert all(m.key.startswith("cell 7, line ") for m in cell_mutants(7, FUNCTION))


def test_comparisons_booleans_numbers_arguments_and_statements():
    found = changes(FUNCTION)
    kept = "`kept = [v for v in values if v > floor and v is not None]`"
    for mutated in (
        "v >= floor and v is not None",  # a comparison
        "v > floor or v is not None",  # a boolean
        "v > floor and v is None",  # `is not` -> `is`
    ):
        assert f"{kept} -> `kept = [v for v in values if {mutated}]`" in found
    assert "`if not values:` -> `if values:`" in found
    assert (
        "`return max(kept, default=floor)` -> `return max(default=floor)`" in found
    )  # an argument
    assert "`return max(kept, default=floor)` -> `pass`" in found  # a statement dropped
    assert f"{kept} -> `pass`" in found


def test_messages_docstrings_and_prints_are_left_alone():
    found = " ".join(changes(FUNCTION))
    assert "no values at all" not in found.replace(
        '`raise ValueError("no values at all")` -> `pass`', ""
    )
    assert "XXkeptXX" not in found and "`print(" not in found
    assert "The best value" not in found


def test_shell_lines_survive_and_yaml_gets_its_own_mutants():
    shell = "import os\n### BEGIN SOLUTION\nx = 1\n!echo hello {x}\n### END SOLUTION\n"
    mutants = cell_mutants(0, shell)
    assert mutants and all("!echo hello {x}" in m.source for m in mutants)
    assert any("x = 2" in m.source for m in mutants)

    preset = (
        "%%writefile {conf}/experiment/fast.yaml\n# @package _global_\n### BEGIN SOLUTION\n"
        "defaults:\n  - override /model: logreg\n\noptimizer:\n  lr: 0.1\n### END SOLUTION\n"
    )
    found = changes(preset)
    assert "`- override /model: logreg` -> `- /model: logreg`" in found
    assert "`lr: 0.1` -> `lr: 1.0`" in found
    assert "`- override /model: logreg` -> `(nothing)`" in found
    assert all(
        m.source.startswith("%%writefile {conf}/experiment/fast.yaml\n")
        for m in cell_mutants(0, preset)
    )


def test_a_cell_without_markers_has_no_mutants():
    assert cell_mutants(0, "x = 1\nprint(x)\n") == []


def test_two_arguments_swapped_and_one_mutant_per_string():
    cell = '### BEGIN SOLUTION\nos.link(tmp, path)\nname = "val_accuracy"\n### END SOLUTION\n'
    found = changes(cell)
    assert "`os.link(tmp, path)` -> `os.link(path, tmp)`" in found
    assert "`os.link(tmp, path)` -> `os.link(path)`" in found
    strings = [c for c in found if c.startswith('`name = "val_accuracy"` -> `name = "')]
    assert strings == ['`name = "val_accuracy"` -> `name = "XXval_accuracyXX"`']


def test_labels_for_people_are_left_alone_but_the_call_is_not():
    cell = """import mlflow
### BEGIN SOLUTION: a named run
with mlflow.start_run(run_name="sweep", nested=True) as run:
    papermill.execute_notebook("a.ipynb", "b.ipynb", progress_bar=False)
### END SOLUTION"""
    found = changes(cell)
    after = [c.split(" -> ")[1] for c in found if c.split(" -> ")[1] != "`pass`"]
    assert all("sweep" in c for c in after if "start_run" in c)  # the name is kept
    assert all("progress_bar=False" in c for c in after if "execute_notebook" in c)
    assert any("nested=False" in c for c in found)
    assert any('execute_notebook("b.ipynb", "a.ipynb"' in c for c in found)
