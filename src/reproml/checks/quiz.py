"""The quiz that closes each chapter: a point per question, graded like the exercises.

A wrong answer gets the idea behind the right one, never the right option. The answers are
kept as digests, so that reading this file does not hand them out (a determined reader can
still try the four letters: the quiz is practice, the exercises are the exam).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from reproml.checks.base import EXERCISES, CheckFailed, Exercise, show

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


QUESTIONS = [
    Question(
        "0.Q1",
        "Why does the course split a validation set off the training images instead of choosing models on the test set?",
        (
            "a choice made on the test set makes its accuracy an optimistic estimate: it is no longer unseen data",
            "validation images are easier, so training goes faster",
            "torchvision refuses to evaluate a model twice on the same images",
            "the test set is too small to choose with",
        ),
        "3bc0dbba9382f05a",
        "every decision taken by looking at a set's score tunes the model to that set; the set used for the final report must not have influenced any choice.",
    ),
    Question(
        "0.Q2",
        "What does quick mode change?",
        (
            "it switches the seeds off to go faster",
            "it moves training to a GPU when there is one",
            "the code that runs: a simplified training loop",
            "only the configuration: one Hydra override with fewer images and one epoch",
        ),
        "975355f26df94aea",
        "quick mode is the override `experiment=quick`, which shrinks the data and the epochs; the code is the same, so what passes in quick mode exercises the real code.",
    ),
    Question(
        "0.Q3",
        "A run records a digest of its data. What is it computed from?",
        (
            "the files' modification times",
            "the path of the data folder",
            "the images and labels of the splits it used",
            "the address the files were downloaded from",
        ),
        "b0899a672e26ac4f",
        "a path names data without identifying it: only a digest of the content changes when an image or a label changes, and only then.",
    ),
    Question(
        "1.Q1",
        "Why does a safe writer write to a temporary file and then move it into place?",
        (
            "writing to a temporary file is faster",
            "an interrupted write then leaves the complete old state or nothing, never a half-written result",
            "it compresses the file",
            "to get around file permissions",
        ),
        "aae8b5a184ccb18f",
        "an interrupted write leaves a truncated file that later readers take for a result; the final move is atomic, so a reader sees a whole file or none.",
    ),
    Question(
        "1.Q2",
        "Why must a best-run finder turn the values it reads into numbers before comparing them?",
        (
            "Python cannot compare two strings",
            "numbers take less memory",
            "to round them to 3 decimals",
            "text compares character by character, so '9.1' sorts above '10.5'",
        ),
        "0017e3612570cc3d",
        "strings compare one character at a time from the left, so the first differing character decides, whatever the numbers' sizes.",
    ),
    Question(
        "1.Q3",
        "Runs were saved as `model_lr.txt`; a parameter is then added to the grid. What is the trouble?",
        (
            "nothing: names can be extended freely",
            "the old files are overwritten",
            "the old files gain the new parameter automatically",
            "old and new names no longer hold the same fields, and an old name does not say which value of the new parameter it ran with",
        ),
        "cb81cb3e62a3f086",
        "a file name is a schema without a version: adding a field changes what each position means, and old files carry no record of the default they used.",
    ),
    Question(
        "2.Q1",
        "An argument has `type=int`. What happens with `--epochs abc`?",
        (
            "the default is used silently",
            "the script receives the text 'abc'",
            "argparse prints a usage line and an error, and exits with status 2, before your code runs",
            "a ValueError traceback",
        ),
        "6957f6672ac604e1",
        "argparse converts each value with its type; when that fails it reports a usage error itself (usage line, message, exit status 2), so bad values never reach your code.",
    ),
    Question(
        "2.Q2",
        "Adding `--batch-size` touched three places of the script. What does that show?",
        (
            "argparse is slow with many options",
            "each parameter is repeated in the parser, the call and the saved record, and a forgotten place drops it silently",
            "an option cannot have a default",
            "options must be added in alphabetical order",
        ),
        "7bb1b11a7e703f9d",
        "with a flat parser the list of parameters lives in several places kept in sync by hand: the duplication that one composed configuration removes.",
    ),
    Question(
        "2.Q3",
        "Why save the parsed arguments next to the result?",
        (
            "so the result says which full configuration produced it, defaults the user never typed included",
            "to make the next run start faster",
            "for the shell's history",
            "argparse requires it",
        ),
        "60baf25eedb8e154",
        "a command line shows only what was typed; defaults change between versions, so only the full resolved record ties a result to its configuration.",
    ),
    Question(
        "3.Q1",
        'With `@hydra.main(version_base="1.3", ...)`, what is the working directory of your function?',
        (
            "the conf/ folder",
            "a temporary folder deleted at exit",
            "a new dated output folder Hydra changes into",
            "the folder you launched it from; Hydra's outputs go to a folder whose path HydraConfig gives",
        ),
        "f0e41c1eb9eacdd7",
        "since version_base 1.2 Hydra no longer changes directory (hydra.job.chdir is false); it still writes its outputs to a dated folder, found with HydraConfig.get().runtime.output_dir.",
    ),
    Question(
        "3.Q2",
        "What does the `+` in `+optimizer.momentum=0.9` do?",
        (
            "removes the key",
            "adds a key the configuration does not have",
            "adds 0.9 to the current value",
            "forces the value even if the type is wrong",
        ),
        "a7305c9d7011395a",
        "overriding a key that does not exist is an error, which catches typos; a leading `+` appends a new key, `++` sets one whether or not it exists, `~` deletes one.",
    ),
    Question(
        "3.Q3",
        "Why does an `experiment/` preset start with `# @package _global_`?",
        (
            "so it is loaded before the other groups",
            "so its keys land at the root of the configuration instead of under `experiment`",
            "to mark the file as private",
            "YAML needs it to parse the file",
        ),
        "2fbb8af0ac13987d",
        "a file of a group is placed under that group's key by default; a preset sets values of several groups, so its content must be placed at the root.",
    ),
    Question(
        "4.Q1",
        "Training crashes inside `with mlflow.start_run():`. How does the run end?",
        (
            "FAILED",
            "FINISHED",
            "it is deleted",
            "RUNNING",
        ),
        "b55fcb14090b2a7b",
        "the `with` block ends the run when it exits; an exception leaving the block ends it as failed. Without the block nothing would end it, and it would show as still running.",
    ),
    Question(
        "4.Q2",
        'In MLflow 3, where does `mlflow.pytorch.log_model(model, name="model")` put the model?',
        (
            "in the model registry, as version 1",
            "inside the backend database, as a blob",
            "in the run's artifact list, under model/",
            "in a logged model of its own (`models:/m-...`) linked to the run",
        ),
        "f7bb211ade4de7e9",
        "MLflow 3 makes models first-class: log_model creates a logged model with its own id, which the run points to; registering it is a separate, explicit step.",
    ),
    Question(
        "4.Q3",
        "Which part of MLflow holds the runs' parameters and metrics?",
        (
            "the model registry",
            "the artifact store",
            "the backend store (a SQLite file, PostgreSQL)",
            "the tracking server's memory",
        ),
        "1ee5d10c50da6e6a",
        "the backend store is a database of runs, parameters, metrics and tags; files (models, figures, notebooks) go to the artifact store; a tracking server only serves both.",
    ),
    Question(
        "5.Q1",
        "Where does papermill put the values you pass?",
        (
            "it rewrites the tagged cell with them",
            "in a new cell right after the cell tagged `parameters`",
            "in the notebook's first cell",
            "in environment variables",
        ),
        "df88242aef8c423c",
        "the tagged cell keeps the defaults and papermill adds an `injected-parameters` cell after it, so the later assignment wins and the defaults stay readable.",
    ),
    Question(
        "5.Q2",
        "`papermill in.ipynb out.ipynb -p year 2024`: in the notebook, `year` is",
        (
            "the int 2024",
            "the float 2024.0",
            "an error: years need -y",
            "the text '2024'",
        ),
        "71764a5d28771873",
        "-p converts values that look like numbers, True/False or None; -r keeps the value as raw text.",
    ),
    Question(
        "5.Q3",
        "When is a notebook per run the better tool than Hydra's `--multirun`?",
        (
            "when there are thousands of short runs",
            "when you need command-line overrides",
            "always: notebooks are easier to test",
            "when what you want to read for each run is a report: figures, tables, text",
        ),
        "8f05482e0c050849",
        "starting a kernel per run costs seconds and notebooks are harder to test than functions; it pays when the executed notebook itself is the result you read.",
    ),
    Question(
        "6.Q1",
        "Two runs have equal parameters, tags and data digests, yet different metrics. The likely cause?",
        (
            "MLflow rounded the metrics",
            "the data changed",
            "the configuration changed",
            "randomness not drawn from the seed, or the platform (threads, GPU kernels)",
        ),
        "4010ab8f8b94ef39",
        "everything the runs recorded is equal, so the difference comes from something not recorded: draws that do not come from the seed, or the hardware and its kernels.",
    ),
    Question(
        "6.Q2",
        "Why should a function others call not run `torch.manual_seed(seed)`?",
        (
            "it is slow",
            "it resets the caller's global generator, so other code draws the same numbers after every call",
            "it is not allowed outside a script",
            "it has no effect on the CPU",
        ),
        "a1b96b4610cd79c9",
        "the global generator is shared by all code in the process; a function's own torch.Generator, or torch.random.fork_rng, keeps its randomness apart.",
    ),
    Question(
        "6.Q3",
        "Same code, configuration and seed, once on a CPU and once on a GPU. According to PyTorch's notes:",
        (
            "results may differ: bitwise reproducibility is promised only within one release and platform",
            "the GPU is always more accurate",
            "the CPU run differs from run to run",
            "the weights are bitwise identical",
        ),
        "c7f41d1be2069c06",
        "different kernels sum in different orders and round differently; PyTorch promises determinism only for one release on one platform, which is why a run records its versions and device.",
    ),
    Question(
        "7.Q1",
        "Why does the leaderboard evaluate each model itself instead of reading the logged test accuracy?",
        (
            "MLflow cannot store accuracies",
            "to use the GPU",
            "it is faster",
            "a logged number is a claim anyone can type; the same model evaluated on one fixed test set is evidence",
        ),
        "b08e9ec3a0847a42",
        "anything a student's code logs can be written by hand; recomputing the score from the model on the instructor's own copy of the test set is what makes it comparable and verified.",
    ),
    Question(
        "7.Q2",
        "Why does the leaderboard never unpickle a submitted model?",
        (
            "pickle cannot store tensors",
            "pickle files are too big",
            "unpickling can run any code the file's author chose, on the machine that loads it",
            "pickle is slower than torch.export",
        ),
        "20029bccb1e345a0",
        "pickle rebuilds objects by calling functions named in the file; loading one is running a program written by someone else.",
    ),
    Question(
        "7.Q3",
        "Which of your runs should you submit?",
        (
            "the one with the best test accuracy",
            "the one with the best validation accuracy; its test accuracy is reported once, at the end",
            "the one with the most epochs",
            "the most recent one",
        ),
        "f0b09569520466af",
        "choosing on the test set spends it: the chosen score is then an optimistic estimate; choose on validation and let the test set judge once.",
    ),
]


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
        print(f"No quiz question {id!r}.")
        return
    show(entry.evaluate(answers))
