"""Answers that delegate to the course's own implementation, or to a check's internals, fail;
the student's own code, using the library the exercise is meant to use, passes. A check's
time budget stops code that runs too long, however it catches exceptions."""

import functools
import importlib
import time

import pytest

from reproml_course.checks.base import EXERCISES, CheckFailed, call, exercise
from reproml_course.checks.own_code import refuse_course_code
from reproml_course.checks.own_code_calls import calls_refused

REFUSED = (
    "reproml.tracking.txt.write_result_file",
    "reproml_course.chapters.pruning.PruneOnValidation",
)


def own_writer(folder, params, metrics):
    from reproml.tracking.txt import result_file_name  # a library helper the answer may use

    return result_file_name(params, None)


def imported_inside(folder, params, metrics):
    from reproml.tracking.txt import write_result_file

    return write_result_file(folder, params, metrics)


def through_the_module(folder, params, metrics):
    import reproml.tracking.txt as txt

    return txt.write_result_file(folder, params, metrics)


def by_import_module(folder, params, metrics):
    return importlib.import_module("reproml.tracking.txt").write_result_file(
        folder, params, metrics
    )


def checks_internals(old, new):
    from reproml_course.checks import ch08_uv

    return ch08_uv.anything(old, new)


def test_own_code_passes_and_delegation_is_refused():
    refuse_course_code(REFUSED, [own_writer])
    for answer in (imported_inside, through_the_module):
        with pytest.raises(
            CheckFailed, match=r"course's own `reproml\.tracking\.txt\.write_result"
        ):
            refuse_course_code(REFUSED, [answer])
    with pytest.raises(CheckFailed, match=r"reproml_course\.checks\.ch08_uv"):
        refuse_course_code((), [checks_internals])


def test_aliases_subclasses_and_partials_are_seen():
    from reproml.tracking.txt import write_result_file as save
    from reproml_course.chapters.pruning import PruneOnValidation

    class Mine(PruneOnValidation):
        pass

    def wrapper(folder, params, metrics):
        return save(folder, params, metrics)

    for answer in (PruneOnValidation, Mine, wrapper, functools.partial(save, "x")):
        with pytest.raises(CheckFailed, match="course's own"):
            refuse_course_code(REFUSED, [answer])


def test_a_program_file_that_imports_the_answer_is_refused(tmp_path):
    script = tmp_path / "train.py"
    script.write_text("from reproml.cli.train import main\nmain.__wrapped__(None)\n")
    with pytest.raises(CheckFailed, match=r"reproml\.cli\.train\.main"):
        refuse_course_code(("reproml.cli.train.main",), [script])
    script.write_text("import reproml.cli.train as t\nt.main()\n")
    with pytest.raises(CheckFailed, match=r"reproml\.cli\.train\.main"):
        refuse_course_code(("reproml.cli.train.main",), [tmp_path])
    script.write_text("from reproml.experiment import run_experiment\n")
    refuse_course_code(("reproml.cli.train.main",), [script])


def test_a_hidden_call_is_caught_while_the_check_runs(tmp_path):
    def hidden(folder, params, metrics):
        module = importlib.import_module("reproml.tracking." + "txt")
        return getattr(module, "write_" + "result_file")(folder, params, metrics)

    for answer in (hidden, by_import_module):
        refuse_course_code(REFUSED, [answer])  # nothing to read in its source
        with (
            pytest.raises(CheckFailed, match="write_result_file"),
            calls_refused(REFUSED, [answer]),
        ):
            answer(tmp_path / answer.__name__, {"a": 1}, {"val_accuracy": 0.5})


def test_the_check_itself_may_call_the_reference(tmp_path):
    from reproml.tracking.txt import write_result_file

    with calls_refused(REFUSED, [own_writer]):
        write_result_file(tmp_path, {"a": 1}, {"val_accuracy": 0.5})


def test_a_check_over_its_budget_stops_the_code_with_one_message():
    @exercise("99.2", "wait", budget=0.3)
    def exercise_99_2(wait):
        call(wait, what="wait()")

    check = EXERCISES.pop("99.2")

    def swallows_everything():
        for _ in range(50):
            try:  # noqa: SIM105
                time.sleep(0.1)
            except:  # noqa: E722 (the mistake this test is about)
                pass
        time.sleep(30)

    started = time.monotonic()
    result = check.evaluate(swallows_everything)
    assert time.monotonic() - started < 10
    assert not result.passed and "stopped your code after 0 s" in result.message
    assert check.evaluate(lambda: None).passed


def test_every_exercise_has_a_budget():
    import reproml_course.checks  # noqa: F401 (registers every exercise)

    assert all(e.budget > 0 for e in EXERCISES.values())
