"""Chapter 09's checks against what students really do: a uniform learning rate, values made up
instead of drawn, `model.name=` instead of the group, an integer batch size; a callback that
reports the training accuracy, counts epochs from 0, reports but never stops, or is no
Callback; a study that minimises, is not seeded, or prunes at the first epoch; an objective
that returns the test accuracy or forgets the pruning callback, a search with no parent run,
a fresh study instead of the given one, or a pruned trial swallowed."""

from __future__ import annotations

import pytest
from solution_cells import code_cell, define, mutate

from reproml.data import load_data
from reproml.notebook import CourseSetup

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


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        (", log=True", "", "drawn uniformly"),
        ('model = trial.suggest_categorical("model", ["logreg", "mlp"])', 'model = "mlp"',
         "was not asked for model"),
        ('f"model={model}"', 'f"model.name={model}"', "setting model.name keeps"),
        ('trial.suggest_categorical("batch_size", [32, 64, 128])',
         'trial.suggest_int("batch_size", 32, 128)', "batch_size is drawn from"),
        ('f"optimizer.lr={lr}"', 'f"lr={lr}"', "Hydra cannot compose"),
        ('"lr", 1e-4, 1e-1', '"learning_rate", 1e-4, 1e-1', "was not asked for lr"),
        ('f"optimizer.lr={lr}"', 'f"optimizer.lr={lr:.3f}"', "write it out in full"),
    ],
    ids=["uniform", "made up", "model.name", "suggest_int", "no group", "another name", "rounded"],
)  # fmt: skip
def test_a_wrong_search_space_fails_9_1(evaluate, old, new, said):
    passed, message = evaluate("9.1", overrides_with(old, new))
    assert not passed and said in message, message


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ("record.val_accuracy, step", "record.train_accuracy, step", "reported"),
        ("step=record.epoch)", "step=record.epoch - 1)", "reported"),
        ("raise optuna.TrialPruned(", "print(", "was not stopped"),
        ("class PruneOnValidation(Callback):", "class PruneOnValidation:", "not a "),
    ],
    ids=["train accuracy", "from 0", "never stops", "no Callback"],
)
def test_a_wrong_pruning_callback_fails_9_2(evaluate, old, new, said):
    passed, message = evaluate("9.2", pruning_with(old, new))
    assert not passed and said in message, message


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ('direction="maximize",', "", "the study minimises"),
        ("TPESampler(seed=seed)", "TPESampler()", "draw different trials"),
        ("TPESampler(seed=seed)", "RandomSampler(seed=seed)", "not TPE"),
        ("n_warmup_steps=2", "n_warmup_steps=1", "pruned at epoch 1"),
        ("MedianPruner(n_startup_trials=2, n_warmup_steps=2)", "MedianPruner()", "never pruned"),
        ("n_startup_trials=2, ", "n_startup_trials=0, ", "with only one finished trial"),
    ],
    ids=["minimises", "unseeded", "random", "first epoch", "defaults", "no startup"],
)
def test_a_wrong_study_fails_9_3(evaluate, old, new, said):
    passed, message = evaluate("9.3", study_with(old, new))
    assert not passed and said in message, message


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
    exec(compile(code, "<search>", "exec"), namespace)
    return namespace["run_search"], namespace["objective"]


@pytest.mark.slow
def test_the_solution_passes_9_4_and_leaves_the_active_experiment(evaluate, search_namespace):
    import mlflow

    active = mlflow.set_experiment("the notebook's").experiment_id
    assert evaluate("9.4", *search_with(search_namespace)) == (True, "passed")
    with mlflow.start_run() as run:  # what the notebook's own search does next
        pass
    assert run.info.experiment_id == active


@pytest.mark.slow
@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ('result.metrics["val_accuracy"]', 'result.metrics["test_accuracy"]', "not for choosing"),
        ("callbacks=[PruneOnValidation(trial)]", "callbacks=[]", "reported {} to Optuna"),
        ('with mlflow.start_run(run_name="search") as parent:\n        study.optimize',
         'if True:\n        parent = mlflow.start_run(run_name="search")\n        mlflow.end_run()'
         '\n        study.optimize', "child runs"),
        ("study.optimize(objective", "optuna.create_study().optimize(objective",
         "the study it was given holds 3 trials"),
        ("    result = run_experiment(config, data=data, callbacks=[PruneOnValidation(trial)])",
         "    try:\n        result = run_experiment(config, data=data, "
         "callbacks=[PruneOnValidation(trial)])\n    except optuna.TrialPruned:\n"
         "        return 0.0", "is COMPLETE but its MLflow run is KILLED"),
        ('f"trainer.epochs={SEARCH_EPOCHS}"', '"trainer.epochs=1"', "enough epochs"),
    ],
    ids=["test accuracy", "no pruning", "no parent", "new study", "swallowed", "one epoch"],
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
