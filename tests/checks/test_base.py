from solution_cells import SOLUTIONS

from reproml_course.checks.base import EXERCISES, MIME_TYPE, CheckFailed, call, exercise


def test_a_check_reports_pass_fail_stub_and_its_own_bug(capsys):
    @exercise("99.1", "double a number", points=3)
    def exercise_99_1(double):
        result = call(double, 21, what="double(21)")
        if result != 42:
            raise CheckFailed(f"double(21) gave {result}.", "multiply by two.")

    check = EXERCISES.pop("99.1")
    assert check.evaluate(lambda x: 2 * x).points == 3
    wrong = check.evaluate(lambda x: x + 2)
    assert (wrong.passed, wrong.points) == (False, 0)
    assert wrong.line() == "❌ Exercise 99.1: double(21) gave 23. Hint: multiply by two."

    def stub(x):
        raise NotImplementedError("write it")

    assert "is not written yet" in check.evaluate(stub).message
    assert check.evaluate(lambda x: 1 / 0).message.startswith("double(21) raised ZeroDivisionError")
    assert "expected a function" in check.evaluate(42).message

    exercise_99_1(lambda x: 2 * x)  # outside IPython: one printed line
    assert capsys.readouterr().out == "✅ Exercise 99.1 passed (3/3 points).\n"


def test_every_chapter_exercise_is_registered_with_points():
    import reproml_course.checks

    ids = sorted(EXERCISES)
    assert {i.split(".")[0] for i in ids} >= {"1", "2", "3", "4", "5", "6"}
    for chapter in "123456":
        assert sum(i.startswith(f"{chapter}.") for i in ids) >= 2
    assert all(EXERCISES[i].points > 0 for i in ids)
    assert MIME_TYPE.startswith("application/vnd.reproml")
    exercises = [i for i in ids if ".Q" not in i]  # the quizzes go through checks.quiz
    assert all(hasattr(reproml_course.checks, f"exercise_{i.replace('.', '_')}") for i in exercises)
    chapters = {str(int(p.name[:2])) for p in SOLUTIONS.glob("[01][0-9]_*.ipynb")}
    assert {i.split(".")[0] for i in ids if ".Q" in i} == chapters
