"""The exercise checks: ``checks.exercise_1_2(find_best_run)`` prints one line, passed or why not.

Each check tests the student's code on fresh inputs and gives a hint, never the answer;
``checks.hint("1.2")`` gives a second one, naming the functions to use.
``checks.quiz("3.Q1", answers)`` grades a question of a chapter's closing quiz.
``EXERCISES`` maps each exercise id ("1.2") to its title, points and check, for the grader.
"""

from reproml_course.checks.base import EXERCISES, CheckFailed, CheckResult, Exercise, hint
from reproml_course.checks.ch00_data import exercise_0_1
from reproml_course.checks.ch01_best_run import exercise_1_2
from reproml_course.checks.ch01_txt import exercise_1_1
from reproml_course.checks.ch02_argparse import exercise_2_1, exercise_2_2
from reproml_course.checks.ch03_groups import exercise_3_1
from reproml_course.checks.ch03_hydra import exercise_3_2
from reproml_course.checks.ch03_parts import exercise_3_4
from reproml_course.checks.ch03_presets import exercise_3_3
from reproml_course.checks.ch04_best_run import exercise_4_2
from reproml_course.checks.ch04_mlflow import exercise_4_1
from reproml_course.checks.ch05_command import exercise_5_2
from reproml_course.checks.ch05_papermill import exercise_5_1
from reproml_course.checks.ch05_sweep import exercise_5_3
from reproml_course.checks.ch06_audit import exercise_6_1
from reproml_course.checks.ch06_determinism import exercise_6_3
from reproml_course.checks.ch06_run_differences import exercise_6_2
from reproml_course.checks.ch07_competition import exercise_7_1
from reproml_course.checks.ch08_lock_changes import exercise_8_2
from reproml_course.checks.ch08_uv import exercise_8_1
from reproml_course.checks.ch09_overrides import exercise_9_1
from reproml_course.checks.ch09_pruning import exercise_9_2
from reproml_course.checks.ch09_study import exercise_9_3
from reproml_course.checks.ch09_tracked_search import exercise_9_4
from reproml_course.checks.ch10_dvc import exercise_10_1
from reproml_course.checks.ch10_restore import exercise_10_2
from reproml_course.checks.quiz import quiz

__all__ = [
    "EXERCISES",
    "CheckFailed",
    "CheckResult",
    "Exercise",
    "exercise_0_1",
    "exercise_1_1",
    "exercise_1_2",
    "exercise_2_1",
    "exercise_2_2",
    "exercise_3_1",
    "exercise_3_2",
    "exercise_3_3",
    "exercise_3_4",
    "exercise_4_1",
    "exercise_4_2",
    "exercise_5_1",
    "exercise_5_2",
    "exercise_5_3",
    "exercise_6_1",
    "exercise_6_2",
    "exercise_6_3",
    "exercise_7_1",
    "exercise_8_1",
    "exercise_8_2",
    "exercise_9_1",
    "exercise_9_2",
    "exercise_9_3",
    "exercise_9_4",
    "exercise_10_1",
    "exercise_10_2",
    "hint",
    "quiz",
]
