"""Chapter 03's checks against the mistakes students make in a Hydra app: options that carry
another option's parameters, a defaults list without _self_, an app that ignores its config or
writes where Hydra did not put the run, a preset that is not global."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from solution_cells import mutate, writefile_cells

from reproml.paths import config_dir

CELLS = dict(writefile_cells("03_hydra.ipynb"))


def write_app(folder: Path, changes: dict[str, tuple[str, str]] | None = None) -> Path:
    """The solution's app in ``folder``, with ``changes`` {file: (old, new)} applied."""
    conf = folder / "conf"
    for group in ("data", "trainer"):
        shutil.copytree(config_dir() / group, conf / group)
    for target, text in CELLS.items():
        path = Path(target.replace("{conf}", str(conf)).replace("{app}", str(folder)))
        name = str(path.relative_to(folder))
        if changes and name in changes:
            text = mutate(text, *changes[name])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


@pytest.fixture
def app(tmp_path, hard_synthetic, monkeypatch):
    monkeypatch.setenv("REPROML_DATA_DIR", str(hard_synthetic.root))
    return lambda changes=None: write_app(tmp_path / "my_app", changes)


def test_the_solution_passes_3_1(evaluate, app):
    assert evaluate("3.1", app()) == (True, "passed")


GROUP_MISTAKES = {
    "SGD with Adam's betas": (
        {"conf/optimizer/sgd.yaml": ("momentum: 0.9", "momentum: 0.9\nbetas: [0.9, 0.999]")},
        "it should have momentum and none of betas",
    ),
    "Adam with a momentum": (
        {"conf/optimizer/adam.yaml": ("lr: 0.001", "lr: 0.001\nmomentum: 0.9")},
        "it should have betas and none of momentum",
    ),
    "no _self_": (
        {"conf/config.yaml": ("  - _self_\n", "")},
        "has no `_self_`",
    ),
    "the wrong default": (
        {"conf/config.yaml": ("  - optimizer: adam", "  - optimizer: sgd")},
        "by default the run should use model=mlp and optimizer=adam",
    ),
    "a group written inline": (
        {"conf/config.yaml": ("  - optimizer: adam\n", ""),
         "conf/optimizer/adam.yaml": ("name: adam", "name: adam")},
        "chooses no option of the group 'optimizer'",
    ),
    "the logistic regression with hidden layers": (
        {"conf/model/logreg.yaml": ("name: logreg", "name: logreg\nhidden_sizes: [64]")},
        "a logistic regression has no parameters",
    ),
    "a file in the wrong folder": (
        {"conf/optimizer/sgd.yaml": ("name: sgd", "name: sgd\nmomentum_: 1")},
        "",
    ),
    "the seed forgotten": (
        {"conf/config.yaml": ("seed: 42", "")},
        "no integer `seed`",
    ),
}  # fmt: skip


@pytest.mark.parametrize("mistake", GROUP_MISTAKES)
def test_wrong_config_groups_fail_3_1(evaluate, app, mistake):
    changes, message = GROUP_MISTAKES[mistake]
    passed, said = evaluate("3.1", app(changes))
    if mistake == "a file in the wrong folder":  # an extra key only: allowed, the course's
        assert passed  # options have comments and extra keys too
        return
    assert not passed and message in said


@pytest.mark.slow
def test_the_solution_passes_3_2_and_3_3(evaluate, app):
    folder = app()
    assert evaluate("3.2", folder) == (True, "passed")
    assert evaluate("3.3", folder) == (True, "passed")


APP_MISTAKES = {
    "the config ignored": (
        {"train.py": ("    result = train(cfg)", "    cfg.seed = 0\n    result = train(cfg)")},
        "did not train the configuration Hydra composed",
    ),
    "metrics in the working directory": (
        {"train.py": ("Path(HydraConfig.get().runtime.output_dir)", "Path.cwd()")},
        "the metrics of the run was not written",
    ),
    "no version_base": (
        {"train.py": ('version_base="1.3", ', "")},
        "version_base is not set",
    ),
    "a stub left": (
        {"train.py": ("    result = train(cfg)", "    raise NotImplementedError('write it')")},
        "is not written yet",
    ),
}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("mistake", APP_MISTAKES)
def test_a_wrong_app_fails_3_2(evaluate, app, mistake):
    changes, message = APP_MISTAKES[mistake]
    passed, said = evaluate("3.2", app(changes))
    assert not passed and message in said


PRESET_MISTAKES = {
    "not global": (
        {"conf/experiment/fast_sgd.yaml": ("# @package _global_\n", "")},
        "does not start with `# @package _global_`",
    ),
    "a comment above the package line": (
        {"conf/experiment/fast_sgd.yaml": ("# @package", "# my preset\n# @package")},
        "does not start with `# @package _global_`",
    ),
    "no override keyword": (
        {"conf/experiment/fast_sgd.yaml": ("  - override /model: logreg", "  - /model: logreg")},
        "",
    ),
    "the learning rate forgotten": (
        {"conf/experiment/fast_sgd.yaml": ("  lr: 0.1", "  lr: 0.05")},
        "experiment=fast_sgd composes to",
    ),
}  # fmt: skip


@pytest.mark.parametrize("mistake", PRESET_MISTAKES)
def test_a_wrong_preset_fails_3_3(evaluate, app, mistake):
    """Fast: each mistake is caught while composing, before the sweep runs."""
    changes, message = PRESET_MISTAKES[mistake]
    passed, said = evaluate("3.3", app(changes))
    assert not passed and message in said
