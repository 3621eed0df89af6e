"""Chapter 09's checks against what students really do.

9.1 (the search space), drawn on fixed trials of every model and every batch size:
a uniform learning rate; a value made up instead of drawn; `model.name=` or `+model.name=`
instead of the group; an integer range for the batch size, or its choices as text; the override
without its group; another name for a value; a rounded learning rate; the wrong range for lr; a
constant model or batch size in the overrides; an extra override, or an extra value drawn;
delegating to the course's `reproml_course.chapters.search.as_overrides`. Accepted: the choices
in another order (`["mlp", "logreg"]`, `[128, 64, 32]`), the value written with `!r`.

9.2 (the pruning callback), on made-up curves that rise, fall, dip and fall behind only at the
last epoch: the training accuracy reported; epochs counted from 0; reporting without ever
stopping; no Callback; `should_prune()` asked before `report()`; the best value so far
reported; a fixed threshold instead of the pruner; another exception than TrialPruned; a
pruning check from epoch 3 only; an epoch counter shared by every instance; the course's
`reproml_course.chapters.pruning.PruneOnValidation`, used or subclassed.

9.3 (the study): minimising; unseeded; a random sampler; pruning from the first epoch, or the
third; the pruner's defaults; no startup trials, or one; a lower percentile than the median;
pruning every other epoch; a fixed threshold; successive halving; the course's
`reproml_course.chapters.search.make_study`. Accepted: PercentilePruner(50) with the same settings.

9.4 (the search, slow): the test accuracy returned; the best epoch's accuracy returned; no
pruning callback; no parent run around the trials; the parent run never ended, or ended
KILLED; a fresh study instead of the given one; a pruned trial swallowed; one epoch per
trial; the batch size drawn but never applied; the trial's run not named after it; the
experiment's id returned instead of the run's; the course's pruning callback or search loop;
the default configuration trained (a CNN: stopped before it trains); a search with no number
of trials (cut short after one trial too many); the data left out of run_experiment (every
trial reads the images from disk again).
"""

from __future__ import annotations

import pytest
from solution_cells import code_cell, define, mutate

from reproml.data import load_data
from reproml_course.chapters.notebook import CourseSetup

NOTEBOOK = "09_hyperparameter_search.ipynb"
OVERRIDES = code_cell(NOTEBOOK, "def trial_overrides")
PRUNING = code_cell(NOTEBOOK, "class PruneOnValidation")
STUDY = code_cell(NOTEBOOK, "def make_study")
SEARCH = code_cell(NOTEBOOK, "def objective")
HEADER = "import mlflow\nimport optuna\n"


def overrides_with(old: str = "", new: str = ""):
    code = mutate(OVERRIDES, old, new) if old else OVERRIDES
    return define(HEADER + code.split("\n\n\ntrial_overrides(")[0], "trial_overrides")


def pruning_with(old: str = "", new: str = ""):
    return define(HEADER + (mutate(PRUNING, old, new) if old else PRUNING), "PruneOnValidation")


def study_with(old: str = "", new: str = ""):
    return define(HEADER + (mutate(STUDY, old, new) if old else STUDY), "make_study")


def test_the_solutions_pass_9_1_to_9_3(evaluate):
    assert evaluate("9.1", overrides_with()) == (True, "passed")
    assert evaluate("9.2", pruning_with()) == (True, "passed")
    assert evaluate("9.3", study_with()) == (True, "passed")


MODEL = 'model = trial.suggest_categorical("model", ["logreg", "mlp"])'
BATCH = 'trial.suggest_categorical("batch_size", [32, 64, 128])'
RETURN = '    return [f"model={model}", f"optimizer.lr={lr}", f"trainer.batch_size={batch_size}"]'


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        (", log=True", "", "drawn uniformly"),
        (MODEL, 'model = "mlp"', "was not asked for model"),
        ('f"model={model}"', 'f"model.name={model}"', "Hydra cannot compose"),
        ('f"model={model}"', 'f"+model.name={model}"', "option of conf/model/"),
        (BATCH, 'trial.suggest_int("batch_size", 32, 128)', "batch_size is drawn with"),
        (BATCH, 'trial.suggest_categorical("batch_size", ["32", "64", "128"])',
         "not the ones the exercise lists"),
        ('f"optimizer.lr={lr}"', 'f"lr={lr}"', "Hydra cannot compose"),
        ('"lr", 1e-4, 1e-1', '"learning_rate", 1e-4, 1e-1', "was not asked for lr"),
        ('f"optimizer.lr={lr}"', 'f"optimizer.lr={lr:.3f}"', "write it out in full"),
        ('f"optimizer.lr={lr}"', 'f"optimizer.lr={lr:.2e}"', "write it out in full"),
        ('"lr", 1e-4, 1e-1', '"lr", 1e-5, 1e-1', "not over the range"),
        ('f"model={model}"', '"model=mlp"', "the composed model is"),
        ('f"trainer.batch_size={batch_size}"', '"trainer.batch_size=64"',
         "trainer.batch_size=64"),
        ('f"trainer.batch_size={batch_size}"]', 'f"trainer.batch_size={batch_size}", '
         '"trainer.epochs=5"]', "also change trainer.epochs"),
        (MODEL, MODEL + '\n    trial.suggest_categorical("optimizer", ["adam", "sgd"])',
         "also asked for optimizer"),
        (RETURN, "    from reproml_course.chapters.search import as_overrides\n\n"
         "    return as_overrides("
         '{"model": model, "optimizer.lr": lr, "trainer.batch_size": batch_size})',
         "course's own `reproml_course.chapters.search.as_overrides`"),
    ],
    ids=["uniform", "made up", "model.name", "+model.name", "suggest_int", "text choices",
         "no group",
         "another name", "rounded", "rounded e", "wrong range", "constant model",
         "constant batch size", "extra override", "extra value drawn", "course's overrides"],
)  # fmt: skip
def test_a_wrong_search_space_fails_9_1(evaluate, old, new, said):
    passed, message = evaluate("9.1", overrides_with(old, new))  # every model, every batch size
    assert not passed and said in message, message
    assert "Distribution(" not in message  # never the expected distribution


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('["logreg", "mlp"]', '["mlp", "logreg"]'),
        ("[32, 64, 128]", "[128, 64, 32]"),
        ('f"optimizer.lr={lr}"', 'f"optimizer.lr={lr!r}"'),
    ],
    ids=["models in another order", "batch sizes in another order", "repr"],
)
def test_correct_search_spaces_pass_9_1(evaluate, old, new):
    assert evaluate("9.1", overrides_with(old, new)) == (True, "passed")


REPORT = "self.trial.report(record.val_accuracy, step=record.epoch)"
ASK = "if self.trial.should_prune():"


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ("record.val_accuracy, step", "record.train_accuracy, step", "reported"),
        ("step=record.epoch)", "step=record.epoch - 1)", "reported"),
        ("raise optuna.TrialPruned(", "print(", "was not stopped"),
        ("class PruneOnValidation(Callback):", "class PruneOnValidation:", "not a "),
        (REPORT, "self.best = max(getattr(self, 'best', 0.0), record.val_accuracy)\n        "
         "self.trial.report(self.best, step=record.epoch)", "nor the best so far"),
        (ASK, "if record.val_accuracy < 0.5:", "do not decide yourself"),
        ("raise optuna.TrialPruned(", "raise RuntimeError(", "raised RuntimeError"),
        (ASK, "if record.epoch > 2 and self.trial.should_prune():", "asked for it at epoch 2"),
        (REPORT, "type(self).epochs = getattr(type(self), 'epochs', 0) + 1\n        "
         "self.trial.report(record.val_accuracy, step=type(self).epochs)", "reported"),
        ("from reproml.training import Callback",
         "from reproml_course.chapters.pruning import PruneOnValidation as Callback",
         "course's own `reproml_course.chapters.pruning.PruneOnValidation`"),
    ],
    ids=["train accuracy", "from 0", "never stops", "no Callback",
         "best so far", "own threshold", "another exception", "from epoch 3",
         "shared counter", "subclass of the course's"],
)  # fmt: skip
def test_a_wrong_pruning_callback_fails_9_2(evaluate, old, new, said):
    for _ in range(2):
        passed, message = evaluate("9.2", pruning_with(old, new))
        assert not passed and said in message, message


def test_the_course_callback_itself_fails_9_2(evaluate):
    from reproml_course.chapters.pruning import PruneOnValidation

    passed, message = evaluate("9.2", PruneOnValidation)
    assert (
        not passed and "course's own `reproml_course.chapters.pruning.PruneOnValidation`" in message
    )


def test_asking_before_reporting_fails_9_2(evaluate):
    code = HEADER + (
        "from reproml.training import Callback\n"
        "class PruneOnValidation(Callback):\n"
        "    def __init__(self, trial):\n"
        "        self.trial = trial\n"
        "    def on_epoch_end(self, record):\n"
        "        if self.trial.should_prune():\n"
        "            raise optuna.TrialPruned()\n"
        "        self.trial.report(record.val_accuracy, step=record.epoch)\n"
    )
    passed, message = evaluate("9.2", define(code, "PruneOnValidation"))
    assert not passed and "before that epoch's value was reported" in message, message


PRUNER = "MedianPruner(n_startup_trials=2, n_warmup_steps=2)"


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ('direction="maximize",', "", "the study minimises"),
        ("TPESampler(seed=seed)", "TPESampler()", "draw different trials"),
        ("TPESampler(seed=seed)", "TPESampler(seed=42)", "the seed is not used"),
        ("TPESampler(seed=seed)", "RandomSampler(seed=seed)", "not TPE"),
        ("n_warmup_steps=2", "n_warmup_steps=1", "pruned at epoch 1"),
        ("n_warmup_steps=2", "n_warmup_steps=3", "pruned at epoch 3"),
        (PRUNER, "MedianPruner()", "never pruned"),
        ("n_startup_trials=2, ", "n_startup_trials=0, ", "with only one finished trial"),
        ("n_startup_trials=2, ", "n_startup_trials=1, ", "with only one finished trial"),
        (PRUNER, "PercentilePruner(75.0, n_startup_trials=2, n_warmup_steps=2)",
         "below the finished trials' median"),
        (PRUNER, "PercentilePruner(25.0, n_startup_trials=2, n_warmup_steps=2)",
         "at epoch 3 only was pruned at epoch 2"),
        (PRUNER, "MedianPruner(n_startup_trials=2, n_warmup_steps=2, interval_steps=2)",
         "at epoch 3 only"),
        (PRUNER, "ThresholdPruner(lower=0.5, n_warmup_steps=2)", "with only one finished"),
        (PRUNER, "SuccessiveHalvingPruner()", "pruned"),
        ("    return optuna.create_study(",
         "    from reproml_course.chapters.search import make_study as made\n"
         "\n    return made(None, None, seed)\n    return optuna.create_study(",
         "course's own `reproml_course.chapters.search.make_study`"),
    ],
    ids=["minimises", "unseeded", "constant seed", "random", "first epoch", "third epoch",
         "defaults", "no startup", "one startup", "keeps 75%", "keeps 25%", "every other epoch",
         "threshold", "successive halving", "course's study"],
)  # fmt: skip
def test_a_wrong_study_fails_9_3(evaluate, old, new, said):
    passed, message = evaluate("9.3", study_with(old, new))
    assert not passed and said in message, message


def test_the_median_as_a_percentile_passes_9_3(evaluate):
    study = study_with(PRUNER, "PercentilePruner(50.0, n_startup_trials=2, n_warmup_steps=2)")
    assert evaluate("9.3", study) == (True, "passed")


@pytest.fixture
def search_namespace(hard_synthetic):
    """What the notebook's cells define before the search: setup, data, and the solutions."""
    setup = CourseSetup(
        quick=True,
        data_root=hard_synthetic.root,
        overrides=[f"data.root={hard_synthetic.root}", "data.download=false", "experiment=quick",
                   "trainer.progress=false", "trainer.device=cpu"],
    )  # fmt: skip
    namespace = {"setup": setup, "data": load_data(setup.config("tracking=none").data),
                 "SEARCH_DATA": []}  # fmt: skip
    for code in (OVERRIDES.split("\n\n\ntrial_overrides(")[0], PRUNING):
        exec(compile(HEADER + code, "<solution>", "exec"), namespace)
    return namespace


def search_with(namespace, old: str = "", new: str = ""):
    code = HEADER + (mutate(SEARCH, old, new) if old else SEARCH)
    if "run_trials" in code:
        code = "from reproml_course.chapters.search import run_trials\n" + code
    exec(compile(code, "<search>", "exec"), namespace)
    return namespace["run_search"], namespace["objective"]


@pytest.mark.slow
def test_the_solution_passes_9_4_and_leaves_the_active_experiment(evaluate, search_namespace):
    import mlflow

    from reproml.loop import EpochLoop

    run_epoch = EpochLoop.run
    active = mlflow.set_experiment("the notebook's").experiment_id
    assert evaluate("9.4", *search_with(search_namespace)) == (True, "passed")
    with mlflow.start_run() as run:  # what the notebook's own search does next
        pass
    assert run.info.experiment_id == active
    assert EpochLoop.run is run_epoch  # the planted validation is gone


PARENT = 'with mlflow.start_run(run_name="search") as parent:\n        study.optimize'
RUN_NAME = '        f"tracking.run_name=trial-{trial.number}",\n'
TRAIN = "    result = run_experiment(config, data=data, callbacks=[PruneOnValidation(trial)])"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ('result.metrics["val_accuracy"]', 'result.metrics["test_accuracy"]', "not for choosing"),
        ('result.metrics["val_accuracy"]', "max(r.val_accuracy for r in result.history)",
         "the best epoch's"),
        ("callbacks=[PruneOnValidation(trial)]", "callbacks=[]", "reported {} to Optuna"),
        (PARENT, 'if True:\n        parent = mlflow.start_run(run_name="search")\n'
         "        mlflow.end_run()\n        study.optimize", "0 child runs"),
        (PARENT, 'if True:\n        parent = mlflow.start_run(run_name="search")\n'
         "        study.optimize", "the parent run is still open"),
        ("study.optimize(objective, n_trials=n_trials)\n",
         'study.optimize(objective, n_trials=n_trials)\n        mlflow.end_run("KILLED")\n',
         "the parent run ended KILLED"),
        ("study.optimize(objective", "optuna.create_study().optimize(objective",
         "the study it was given holds 3 trials"),
        (TRAIN, "    try:\n    " + TRAIN + "\n    except optuna.TrialPruned:\n"
         "        return 0.0", "is COMPLETE but its MLflow run is KILLED"),
        ('f"trainer.epochs={SEARCH_EPOCHS}"', '"trainer.epochs=1"', "enough epochs"),
        ("*trial_overrides(trial),", "*trial_overrides(trial)[:2],",
         "but its run trained with trainer.batch_size"),
        (RUN_NAME, "", "no child run is named trial-0"),
        ("return parent.info.run_id", "return parent.info.experiment_id", "no run's id"),
        ("from reproml.experiment import run_experiment\n",
         "from reproml.experiment import run_experiment\n"
         "from reproml_course.chapters.pruning import PruneOnValidation\n",
         "course's own `reproml_course.chapters.pruning.PruneOnValidation`"),
        ("study.optimize(objective, n_trials=n_trials)", "run_trials(study, {}, objective, "
         "n_trials)", "course's own `reproml_course.chapters.search.run_trials`"),
        ('compose(config_name="config", overrides=overrides)', 'compose(config_name="config")',
         "not a point of the search space"),
        ("study.optimize(objective, n_trials=n_trials)", "study.optimize(objective)",
         "holds 5 trials"),
        ("data=data, callbacks", "callbacks", "read the images from disk 4 times"),
    ],
    ids=["test accuracy", "best epoch", "no pruning", "no parent", "parent never ended",
         "parent killed", "new study", "swallowed", "one epoch", "batch size dropped",
         "no run name", "experiment id", "course's callback", "course's loop",
         "default configuration", "never stops", "data read per trial"],
)  # fmt: skip
def test_a_wrong_search_fails_9_4(evaluate, search_namespace, old, new, said):
    if "SEARCH_EPOCHS" in old:  # the epochs live in SEARCH, outside the exercise's code
        search_namespace["SEARCH_EPOCHS"] = 1
        run_search, objective = search_with(search_namespace)
        search = search_namespace["SEARCH"]
        search[:] = ["trainer.epochs=1" if o.startswith("trainer.epochs") else o for o in search]
    else:
        run_search, objective = search_with(search_namespace, old, new)
    passed, message = evaluate("9.4", run_search, objective)
    assert not passed and said in message, message
