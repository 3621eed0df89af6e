"""Chapter 03's checks against the mistakes students make in a Hydra app.

The mistakes, each written below as a change to the solution's files:

3.1 (config groups)
- an option with another option's parameters (SGD with Adam's betas, Adam with a momentum, a
  logistic regression with hidden layers), or with a key no one takes (`momentum_`);
- an option's own parameter missing (the MLP's dropout) or of the wrong type
  (`hidden_sizes: 256`, `seed: "42"`), or with another value than the exercise's;
- an option nested under its group's name inside its own file (`optimizer: {_target_: ...}`);
- the part's class: `name: mlp` kept from the course's old form, `target:` or `_target:`,
  `torch.optim.sgd` (a module's name, lower case), `Adam` without its module; for an
  optimizer, `_partial_` forgotten or written as text (`"true"`); `_partial_` on the model;
- the defaults list: no `_self_`, `_self_` first, no empty `experiment` slot or one before
  `_self_`, the wrong default option, a group left out; config.yaml changing a group's values,
  or the seed forgotten.
- the course's own options copied (SGD's `weight_decay: 0.0` and `nesterov: false` added:
  neutral, but the exercise lists the keys and says "nothing else").

3.2 (the app)
- the configuration changed or ignored (`cfg.seed = 0`; the default configuration composed
  again inside the app, the issue's 500-second answer);
- metrics written into the working directory, or into `hydra.run.dir` (right for one run,
  wrong for each job of a sweep), or only some of them;
- the return value: the test accuracy (the issue's case), the metrics dict, nothing;
- no `version_base`; `main()` never called; the course's own entry point called
  (`reproml.cli.train.main.__wrapped__`, the issue's case); a stub left.
Correct variants: the configuration turned into a plain dict before training; the run's
folder read from the working directory with `hydra.job.chdir: true`.

3.3 (the preset and the sweep)
- no `override /model:` and `override /optimizer:` (the options renamed instead of replaced:
  logistic regression with the MLP's sizes, SGD with Adam's betas; the issue's case), or only
  one of them; `override` without its slash... or without the keyword;
- a value wrong (lr), at the wrong place (`epochs: 3` at the top), or one more changed (seed);
- the package line missing, after a comment, or `_group_`; no `experiment` slot in config.yaml;
- the app writing each job's metrics to `hydra.run.dir` (the sweep's jobs share it).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from solution_cells import mutate, writefile_cells

from reproml.base.paths import config_dir
from reproml_course.checks import scripts
from reproml_course.checks.base import CheckFailed
from reproml_course.checks.scripts import error_summary

CELLS = dict(writefile_cells("03_hydra.ipynb"))


def write_app(folder: Path, changes: dict[str, list[tuple[str, str]]] | None = None) -> Path:
    """The solution's app in ``folder``, with ``changes`` {file: [(old, new), ...]} applied."""
    conf = folder / "conf"
    for group in ("data", "trainer"):
        shutil.copytree(config_dir() / group, conf / group)
    for target, text in CELLS.items():
        path = Path(target.replace("{conf}", str(conf)).replace("{app}", str(folder)))
        name = str(path.relative_to(folder))
        for old, new in (changes or {}).get(name, []):
            text = mutate(text, old, new)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


@pytest.fixture
def app(tmp_path, monkeypatch):
    """The solution's app, changed; the checks run it on a data set of their own."""
    monkeypatch.chdir(tmp_path)
    return lambda changes=None: write_app(tmp_path / "my_app", changes)


def test_the_solution_passes_3_1(evaluate, app):
    assert evaluate("3.1", app()) == (True, "passed")


SGD, ADAM = "conf/optimizer/sgd.yaml", "conf/optimizer/adam.yaml"
MLP, LOGREG, CONFIG = "conf/model/mlp.yaml", "conf/model/logreg.yaml", "conf/config.yaml"
LOGREG_TARGET = "_target_: reproml.models.LogisticRegression"

GROUP_MISTAKES = {
    "SGD with Adam's betas": (
        {SGD: [("momentum: 0.9", "momentum: 0.9\nbetas: [0.9, 0.999]")]},
        "it should have lr, momentum and none of betas (betas is adam's)",
    ),
    "Adam with a momentum": (
        {ADAM: [("lr: 0.001", "lr: 0.001\nmomentum: 0.9")]},
        "it should have betas, lr and none of momentum",
    ),
    "the logistic regression with hidden layers": (
        {LOGREG: [(LOGREG_TARGET, LOGREG_TARGET + "\nhidden_sizes: [64]")]},
        "a logistic regression has no parameters",
    ),
    "a key no one takes": (
        {SGD: [("_partial_: true", "_partial_: true\nmomentum_: 1")]},
        "momentum_ is not a parameter the exercise gives it",
    ),
    "the MLP's dropout forgotten": (
        {MLP: [("dropout: 0.2", "")]},
        "it has no dropout",
    ),
    "hidden_sizes as an int": (
        {MLP: [("hidden_sizes: [256, 128]", "hidden_sizes: 256")]},
        "hidden_sizes=256 (int), where the exercise gives a list",
    ),
    "another learning rate": (
        {SGD: [("lr: 0.05", "lr: 0.01")]},
        "optimizer=sgd has lr=0.01; the exercise gives another value",
    ),
    "an option nested under its group": (
        {SGD: [("_target_: torch", "optimizer:\n  _target_: torch"),
               ("_partial_: true", "  _partial_: true"), ("lr: 0.05", "  lr: 0.05"),
               ("momentum: 0.9", "  momentum: 0.9")]},
        "optimizer=sgd composes to {'optimizer'",
    ),
    "name: kept instead of _target_": (
        {MLP: [("_target_: reproml.models.MLP", "name: mlp")]},
        "conf/model/mlp.yaml has no _target_ (it has name:",
    ),
    "target: without underscores": (
        {SGD: [("_target_:", "target:")]},
        "has no _target_ (it has 'target'",
    ),
    "_target: with one underscore": (
        {ADAM: [("_target_:", "_target:")]},
        "has no _target_ (it has '_target'",
    ),
    "the module's name in lower case": (
        {SGD: [("torch.optim.SGD", "torch.optim.sgd")]},
        "_target_: torch.optim.sgd; Hydra would import and call that (the class keeps its",
    ),
    "the class without its module": (
        {ADAM: [("_target_: torch.optim.Adam", "_target_: Adam")]},
        "(a class's path starts with its module)",
    ),
    "another class": (
        {MLP: [("reproml.models.MLP", "reproml.models.CNN")]},
        "(that is another class)",
    ),
    "_partial_ forgotten": (
        {SGD: [("_partial_: true", "")]},
        "conf/optimizer/sgd.yaml has no _partial_: instantiate would call SGD(lr=...) at once",
    ),
    "_partial_ as text": (
        {ADAM: [("_partial_: true", '_partial_: "true"')]},
        "has _partial_: 'true' (text, not true)",
    ),
    "_partial_ on the model": (
        {MLP: [("dropout: 0.2", "dropout: 0.2\n_partial_: true")]},
        "_partial_ is not a parameter the exercise gives it",
    ),
    "no _self_": (
        {CONFIG: [("  - _self_\n", "")]},
        "has no `_self_`",
    ),
    "_self_ first": (
        {CONFIG: [("  - _self_\n", ""), ("defaults:\n", "defaults:\n  - _self_\n")]},
        "`_self_` comes before data, trainer, model, optimizer",
    ),
    "no experiment slot": (
        {CONFIG: [("  - experiment: null", "")]},
        "no empty `experiment` slot",
    ),
    "the experiment slot before _self_": (
        {CONFIG: [("  - _self_\n  - experiment: null", "  - experiment: null\n  - _self_")]},
        "`experiment` comes before `_self_`",
    ),
    "the wrong default": (
        {CONFIG: [("  - optimizer: adam", "  - optimizer: sgd")]},
        "by default the run should use model=mlp and optimizer=adam",
    ),
    "a group left out of the defaults": (
        {CONFIG: [("  - optimizer: adam\n", "")]},
        "chooses no option of the group 'optimizer'",
    ),
    "config.yaml changing a group's values": (
        {CONFIG: [("seed: 42", "seed: 42\ntrainer:\n  epochs: 5")]},
        "composes trainer to something else",
    ),
    "the seed forgotten": (
        {CONFIG: [("seed: 42", "")]},
        "no seed at its top level",
    ),
    "the seed as text": (
        {CONFIG: [("seed: 42", 'seed: "42"')]},
        "seed='42'",
    ),
}  # fmt: skip


@pytest.mark.parametrize("mistake", GROUP_MISTAKES)
def test_wrong_config_groups_fail_3_1(evaluate, app, mistake):
    changes, message = GROUP_MISTAKES[mistake]
    passed, said = evaluate("3.1", app(changes))
    assert not passed and message in said, said


def test_the_course_options_copied_fail_3_1(evaluate, app):
    """The course's conf/ adds neutral keys (weight_decay: 0.0, nesterov: false): the exercise
    lists the keys and says "nothing else", and an outside reviewer counted the copy wrong."""
    changes = {
        SGD: [("momentum: 0.9", "momentum: 0.9\nweight_decay: 0.0\nnesterov: false")],
        ADAM: [("betas: [0.9, 0.999]", "betas: [0.9, 0.999]\nweight_decay: 0.0")],
    }
    passed, said = evaluate("3.1", app(changes))
    assert not passed and "weight_decay is not a parameter the exercise gives" in said


@pytest.mark.slow
def test_the_solution_passes_3_2_and_3_3(evaluate, app):
    folder = app()
    assert evaluate("3.2", folder) == (True, "passed")
    assert evaluate("3.3", folder) == (True, "passed")


TRAIN = "train.py"
RETURN = '    return result.metrics["val_accuracy"]'

APP_MISTAKES = {
    "the config changed": (
        {TRAIN: [("    result = train(cfg)", "    cfg.seed = 0\n    result = train(cfg)")]},
        "did not train the configuration Hydra composed",
    ),
    "the default configuration composed again": (
        {TRAIN: [("    result = train(cfg)",
                  "    from hydra import compose\n\n"
                  '    result = train(compose(config_name="config"))')]},
        "",  # its metrics differ, or it is stopped for taking too long (see below)
    ),
    "metrics in the working directory": (
        {TRAIN: [("Path(HydraConfig.get().runtime.output_dir)", "Path.cwd()")]},
        "the metrics of the run was not written",
    ),
    "metrics in hydra.run.dir": (
        {TRAIN: [("Path(HydraConfig.get().runtime.output_dir)",
                  "Path(HydraConfig.get().run.dir)")]},
        "`python train.py -m",
    ),
    "only the validation accuracy saved": (
        {TRAIN: [("json.dumps(result.metrics, indent=2)",
                  'json.dumps({"val_accuracy": result.metrics["val_accuracy"]})')]},
        "did not train the configuration Hydra composed",
    ),
    "the test accuracy returned": (
        {TRAIN: [(RETURN, '    return result.metrics["test_accuracy"]')]},
        "returns the test accuracy",
    ),
    "the metrics returned": (
        {TRAIN: [(RETURN, "    return result.metrics")]},
        "returns a dict, not a number",
    ),
    "nothing returned": (
        {TRAIN: [(RETURN, "")]},
        "returns nothing",
    ),
    "no version_base": (
        {TRAIN: [('version_base="1.3", ', "")]},
        "version_base is not set",
    ),
    "main never called": (
        {TRAIN: [("    main()", "    pass")]},
        "left no .hydra/config.yaml",
    ),
    "the course's own entry point": (
        {TRAIN: [("    result = train(cfg)\n", ""),
                 ("    run_dir = Path", "    import reproml.cli.train\n\n"
                  "    return reproml.cli.train.main.__wrapped__(cfg)\n    run_dir = Path")]},
        "course's own `reproml.cli.train`",
    ),
    "a stub left": (
        {TRAIN: [("    result = train(cfg)", "    raise NotImplementedError('write it')")]},
        "is not written yet",
    ),
}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("mistake", APP_MISTAKES)
def test_a_wrong_app_fails_3_2(evaluate, app, mistake):
    changes, message = APP_MISTAKES[mistake]
    passed, said = evaluate("3.2", app(changes))
    assert not passed and message in said, said
    if mistake == "the default configuration composed again":
        assert "did not train the configuration" in said or "was still running after" in said


def test_a_program_that_trains_too_long_is_stopped(tmp_path, monkeypatch):
    """A run is stopped long before the check's budget when it takes much longer than the
    course's training of what it was asked (the issue's answer trained for 500 s)."""
    program = tmp_path / "train.py"
    program.write_text("import time\ntime.sleep(60)\n")
    monkeypatch.setattr(scripts, "slow_limit", lambda seconds: 1 + seconds)
    started = time.perf_counter()
    with pytest.raises(CheckFailed, match="was still running after 2 s, where the course's"):
        scripts.run_program(program, [], what="python train.py", expected_seconds=1.0)
    assert time.perf_counter() - started < 30


APP_VARIANTS = {
    "a plain dict trained": {
        TRAIN: [("    result = train(cfg)",
                 "    from omegaconf import OmegaConf\n\n"
                 "    result = train(OmegaConf.to_container(cfg, resolve=True))")]
    },
    "the course's training loop with its tracking (none here)": {
        TRAIN: [("    result = train(cfg)",
                 "    from reproml.experiment import run_experiment\n\n"
                 "    result = run_experiment(cfg)")]
    },
    "the working directory is the run's, with hydra.job.chdir": {
        TRAIN: [("Path(HydraConfig.get().runtime.output_dir)", "Path.cwd()")],
        CONFIG: [("seed: 42", "seed: 42\nhydra:\n  job:\n    chdir: true")],
    },
}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("variant", APP_VARIANTS)
def test_a_correct_app_passes_3_2(evaluate, app, variant):
    assert evaluate("3.2", app(APP_VARIANTS[variant])) == (True, "passed")


PRESET = "conf/experiment/fast_sgd.yaml"
OVERRIDES = "  - override /model: logreg\n  - override /optimizer: sgd\n"

PRESET_MISTAKES = {
    "no overrides: the options renamed": (
        {PRESET: [("defaults:\n" + OVERRIDES, ""),
                  ("optimizer:\n", "model:\n  _target_: reproml.models.LogisticRegression\n"
                                    "optimizer:\n  _target_: torch.optim.SGD\n")]},
        "left from the option it should have replaced",
    ),
    "the optimizer renamed, not replaced": (
        {PRESET: [("  - override /optimizer: sgd\n", ""),
                  ("optimizer:\n", "optimizer:\n  _target_: torch.optim.SGD\n")]},
        "optimizer.betas",
    ),
    "not global": (
        {PRESET: [("# @package _global_\n", "")]},
        "does not start with `# @package _global_`",
    ),
    "a comment above the package line": (
        {PRESET: [("# @package", "# my preset\n# @package")]},
        "does not start with `# @package _global_`",
    ),
    "the group's package": (
        {PRESET: [("# @package _global_", "# @package _group_")]},
        "does not start with `# @package _global_`",
    ),
    "no override keyword": (
        {PRESET: [("  - override /model: logreg", "  - /model: logreg")]},
        "",
    ),
    "no slash": (
        {PRESET: [("  - override /model: logreg", "  - override model: logreg")]},
        "",
    ),
    "the learning rate forgotten": (
        {PRESET: [("  lr: 0.1", "  lr: 0.05")]},
        "experiment=fast_sgd composes",
    ),
    "the epochs at the top": (
        {PRESET: [("trainer:\n  epochs: 3", "epochs: 3")]},
        "it differs from",
    ),
    "the seed changed too": (
        {PRESET: [("trainer:\n", "seed: 0\ntrainer:\n")]},
        "seed",
    ),
    "no experiment slot in config.yaml": (
        {CONFIG: [("  - experiment: null", "")]},
        "cannot be chosen from the command line",
    ),
}  # fmt: skip


@pytest.mark.parametrize("mistake", PRESET_MISTAKES)
def test_a_wrong_preset_fails_3_3(evaluate, app, mistake):
    """Fast: each mistake is caught while composing, before the sweep runs."""
    changes, message = PRESET_MISTAKES[mistake]
    passed, said = evaluate("3.3", app(changes))
    assert not passed and message in said, said


@pytest.mark.slow
def test_a_sweep_that_shares_one_folder_fails_3_3(evaluate, app):
    changes = {TRAIN: [("Path(HydraConfig.get().runtime.output_dir)",
                        "Path(HydraConfig.get().run.dir)")]}  # fmt: skip
    passed, said = evaluate("3.3", app(changes))
    assert not passed and "`python train.py -m" in said, said
    assert "FileNotFoundError" in said and "^" not in said, said  # the error, not its pointers


def test_a_failed_run_shows_its_error_line(tmp_path):
    """Python 3.11 underlines the failing code with ^^^^ and Hydra ends with a remark about
    HYDRA_FULL_ERROR: the summary is the exception, with the app's line."""
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "config.yaml").write_text("x: 1\n")
    (tmp_path / "train.py").write_text(
        "import hydra\n\n\n"
        '@hydra.main(version_base="1.3", config_path="conf", config_name="config")\n'
        "def main(cfg):\n"
        '    metrics = {"val_accuracy": 0.5}\n'
        '    return metrics["val_acc"] + cfg.x\n\n\n'
        'if __name__ == "__main__":\n'
        "    main()\n"
    )
    for args in ([], ["-m", "x=1,2"]):
        done = subprocess.run(
            [sys.executable, str(tmp_path / "train.py"), *args], capture_output=True, text=True
        )
        assert "^^^" in done.stderr or "HYDRA_FULL_ERROR" in done.stderr
        said = error_summary(done.stderr, tmp_path)
        assert said == "KeyError: 'val_acc' (train.py, line 7)", said


def test_an_app_calling_the_course_entry_point_fails_3_3(evaluate, app):
    changes = {TRAIN: [("    result = train(cfg)\n", ""),
                       ("    run_dir = Path", "    from reproml.cli.train import main as course\n\n"
                        "    return course.__wrapped__(cfg)\n    run_dir = Path")]}  # fmt: skip
    passed, said = evaluate("3.3", app(changes))
    assert not passed and "course's own `reproml.cli.train`" in said, said


@pytest.mark.slow
def test_a_preset_with_its_own_self_passes_3_3(evaluate, app):
    changes = {PRESET: [(OVERRIDES, OVERRIDES + "  - _self_\n")]}
    assert evaluate("3.3", app(changes)) == (True, "passed")
