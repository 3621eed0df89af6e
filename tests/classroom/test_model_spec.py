"""The model a competition run says it trained, read from its logged parameters, and refused
unless it is one of the course's: a ``_target_`` can name any callable."""

import sys

import pytest

from reproml.parts import build_part
from reproml_course.classroom.model_files import Rejected
from reproml_course.classroom.model_spec import model_spec

SMALL_CNN = {"_target_": "reproml.models.CNN", "channels": [4, 8], "hidden": 16}


def logged(spec: dict) -> dict[str, str]:
    """The ``model.*`` parameters MLflow keeps for ``spec``: strings."""
    return {f"model.{key}": str(value) for key, value in spec.items()}


def test_the_model_a_run_logged_is_read_back_as_literals():
    params = {**logged(SMALL_CNN), "model.name": "cnn", "optimizer.lr": "0.001"}
    spec = model_spec(params)
    assert spec == SMALL_CNN  # model.name is derived, not a parameter; optimizer.* is not read
    assert build_part(spec, "model").classifier[-1].in_features == 16


def test_a_run_logged_before_targets_is_read_by_its_name():
    spec = model_spec({"model.name": "cnn", "model.channels": "[4, 8]", "model.hidden": "16"})
    assert spec == SMALL_CNN
    assert model_spec({"model.name": "logreg"}) == {"_target_": "reproml.models.LogisticRegression"}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"model._target_": "os.system", "model.command": "touch x"}, "'os.system' is not one"),
        ({"model._target_": "builtins.eval", "model._args_": "['1']"}, "'builtins.eval' is not"),
        ({"model._target_": "not_a_module_xyz.Thing"}, "'not_a_module_xyz.Thing' is not one"),
        ({"model._target_": "torch.optim.SGD", "model.lr": "0.1"}, "'torch.optim.SGD' is not one"),
        ({"model.name": "evil"}, "'evil' is not one of the course's models"),
        (
            {**logged(SMALL_CNN), "model.hidden_sizes": "[{'_target_': 'os.system'}]"},
            "model.hidden_sizes holds a mapping that names a target",
        ),
        (
            {"model.name": "cnn", "model.channels": "[{'_target_': 'os.system'}]"},
            "model.channels holds a mapping",
        ),
        ({**logged(SMALL_CNN), "model._args_": "[[4]]"}, "model sets _args_"),
        ({**logged(SMALL_CNN), "model._recursive_": "True"}, "model sets _recursive_"),
        ({**logged(SMALL_CNN), "model.hidden_sizes": "[10]"}, "has no parameter hidden_sizes"),
        ({**logged(SMALL_CNN), "model.channels": "[1, 2"}, "model.channels must be a list of"),
        ({"model.channels": "[4, 8]"}, "it logged no model._target_ parameter"),
    ],
)
def test_a_model_the_course_does_not_build_is_refused(params, message):
    with pytest.raises(Rejected) as error:
        model_spec(params)
    assert message in str(error.value)
    if "no model._target_" not in message:
        assert str(error.value).startswith("the leaderboard cannot build its model: ")


def test_a_target_is_refused_without_importing_it_or_torch():
    """The leaderboard's parent process reads every submitted run's parameters: deciding
    imports nothing a run names, and not torch (the parent stays light)."""
    import subprocess

    code = (
        "import sys\n"
        "from reproml_course.classroom.model_files import Rejected\n"
        "from reproml_course.classroom.model_spec import model_spec\n"
        "try:\n"
        "    model_spec({'model._target_': 'not_a_module_xyz.Thing'})\n"
        "except Rejected:\n"
        "    print('refused')\n"
        "model_spec({'model.name': 'cnn', 'model.channels': '[4, 8]'})\n"
        "print(sorted(m for m in ('not_a_module_xyz', 'torch', 'hydra') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[:2] == ["refused", "[]"]
    with pytest.raises(Rejected):
        model_spec({"model._target_": "not_a_module_xyz.Thing"})
    assert "not_a_module_xyz" not in sys.modules
