"""The quiz that closes each chapter: a point per question, graded like the exercises.

A wrong answer gets the idea behind the right one, never the right option. The answers are
kept as digests, so that reading this file does not hand them out (a determined reader can
still try the four letters: the quiz is practice, the exercises are the exam).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reproml_course.base.messages import say
from reproml_course.checks.base import EXERCISES, CheckFailed, Exercise, show

LETTERS = "abcd"


@dataclass(frozen=True)
class Question:
    id: str  # "3.Q1": chapter 3, question 1
    prompt: str
    options: tuple[str, ...]
    answer_digest: str
    explanation: str  # the idea behind the right answer, shown after a wrong one

    @property
    def number(self) -> int:
        return int(self.id.split(".Q")[1])

    def is_right(self, letter: str) -> bool:
        text = f"reproml-quiz:{self.id}:{letter}".encode()
        return hashlib.sha256(text).hexdigest()[:16] == self.answer_digest

    def markdown(self) -> str:
        options = "\n".join(f"- **{x}**) {o}" for x, o in zip(LETTERS, self.options, strict=False))
        return f"**Q{self.number}.** {self.prompt}\n{options}"


def _read_questions() -> list[Question]:
    import yaml

    entries = yaml.safe_load(Path(__file__).with_name("quiz.yaml").read_text(encoding="utf-8"))
    for entry in entries:  # an unquoted "a: b" in YAML is a mapping, not a text
        texts = [entry["prompt"], entry["explanation"], *entry["options"]]
        if not all(isinstance(text, str) for text in texts):
            raise ValueError(f"quiz.yaml, {entry['id']}: quote the texts that hold ': '")
    return [Question(**{**entry, "options": tuple(entry["options"])}) for entry in entries]


QUESTIONS = _read_questions()


def chapter_questions(chapter: int) -> list[Question]:
    return [q for q in QUESTIONS if q.id.split(".")[0] == str(chapter)]


def _check(question: Question):
    def check(answers: Any) -> None:
        if not isinstance(answers, dict):
            raise CheckFailed(
                f'answers should be a dict such as {{1: "a", 2: "c"}}, got '
                f"{type(answers).__name__}."
            )
        given = answers.get(question.number, answers.get(str(question.number)))
        if given is None:
            raise CheckFailed(f"no answer to question {question.number} yet.")
        letter = str(given).strip().lower().rstrip(")")
        if letter not in tuple(LETTERS[: len(question.options)]):
            raise CheckFailed(
                f"answer question {question.number} with one letter, "
                f"{', '.join(LETTERS[: len(question.options)])}; got {given!r}."
            )
        if not question.is_right(letter):
            raise CheckFailed(
                f"not {letter}) for question {question.number}: {question.explanation}"
            )

    return check


for _question in QUESTIONS:
    EXERCISES[_question.id] = Exercise(
        _question.id, f"quiz, question {_question.number}", 1, _check(_question)
    )


def quiz(id: str, answers: Any) -> None:
    """Grade one question of a chapter's quiz (``id`` like "3.Q1") from the dict ``answers``."""
    entry = EXERCISES.get(str(id))
    if entry is None or ".Q" not in str(id):
        print(say("No quiz question {id}.", id=repr(id)))
        return
    show(entry.evaluate(answers))
