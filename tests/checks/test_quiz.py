"""The chapters' quizzes: one right letter per question, graded from the notebooks' own cells,
and feedback that explains without naming the right option."""

from __future__ import annotations

import nbformat
import pytest
from solution_cells import SOLUTIONS, code_cell, define

from reproml_course.base.notebooks import check_cells
from reproml_course.checks.base import EXERCISES
from reproml_course.checks.quiz import LETTERS, QUESTIONS, chapter_questions

CHAPTERS = sorted(p.name for p in SOLUTIONS.glob("[01][0-9]_*.ipynb"))


def solution_answers(notebook: str) -> dict:
    cell = code_cell(notebook, "answers = {")
    return define(cell + "\nresult = answers\n", "result")


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.id)
def test_exactly_one_letter_is_right(question):
    right = [x for x in LETTERS if EXERCISES[question.id].evaluate({question.number: x}).passed]
    assert len(right) == 1


@pytest.mark.parametrize("notebook", CHAPTERS)
def test_each_chapter_closes_with_a_graded_quiz(notebook):
    chapter = int(notebook[:2])
    questions = chapter_questions(chapter)
    assert 3 <= len(questions) <= 5
    nb = nbformat.read(SOLUTIONS / notebook, as_version=4)
    assert {q.id for q in questions} <= set(check_cells(nb))
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert all(q.prompt in text for q in questions)
    answers = solution_answers(notebook)
    assert all(EXERCISES[q.id].evaluate(answers).passed for q in questions)


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.id)
def test_a_wrong_answer_explains_without_giving_the_option(question):
    right = next(x for x in LETTERS if EXERCISES[question.id].evaluate({question.number: x}).passed)
    for wrong in (x for x in LETTERS if x != right):
        result = EXERCISES[question.id].evaluate({question.number: wrong})
        assert not result.passed and question.explanation in result.message
        assert question.options[LETTERS.index(right)] not in result.message
        assert f"{right})" not in result.message.replace(f"not {wrong})", "")


@pytest.mark.parametrize(
    ("answers", "said"),
    [
        ({}, "no answer to question 1 yet"),
        ({1: "e"}, "with one letter"),
        (["b"], "should be a dict"),
        ({1: "ab"}, "with one letter"),
    ],
)
def test_answers_that_are_not_answers(answers, said):
    result = EXERCISES["3.Q1"].evaluate(answers)
    assert not result.passed and said in result.message


def test_letters_may_be_written_loosely():
    right = next(x for x in LETTERS if EXERCISES["4.Q1"].evaluate({1: x}).passed)
    assert EXERCISES["4.Q1"].evaluate({"1": f" {right.upper()})"}).passed


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.id)
def test_every_text_of_a_question_is_a_text(question):
    """A YAML option like `- they cannot: Optuna runs...` reads as a mapping and renders as one."""
    texts = [question.prompt, question.explanation, *question.options]
    assert all(isinstance(text, str) for text in texts)
    assert len(question.options) == len(LETTERS)


@pytest.mark.parametrize("notebook", CHAPTERS)
def test_the_notebook_shows_each_question_as_the_quiz_holds_it(notebook):
    """The quiz cell is written once from quiz.yaml; a question edited since (or an option that
    once rendered as a mapping) would leave the student reading another text than the one
    graded and explained."""
    nb = nbformat.read(SOLUTIONS / notebook, as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for question in chapter_questions(int(notebook[:2])):
        assert question.markdown() in markdown, question.id
