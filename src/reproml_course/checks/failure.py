"""How a check fails: what is wrong, and a hint that does not give the answer away.

Apart from ``base`` so that ``own_code``, which ``base`` uses, can fail a check too.
"""

from __future__ import annotations


class CheckFailed(Exception):
    """What is wrong with the student's work, and a hint that does not give the answer away."""

    def __init__(self, problem: str, hint: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.problem} Hint: {self.hint}" if self.hint else self.problem


def expect(condition: bool, problem: str, hint: str = "") -> None:
    if not condition:
        raise CheckFailed(problem, hint)
