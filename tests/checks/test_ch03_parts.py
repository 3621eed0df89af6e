"""Chapter 03's check of ``build_parts`` (3.4), against the mistakes students make with
Hydra's ``instantiate``.

Each mistake is written below as a change to the solution's cell:
- the optimizer's partial returned without being called, or the model built as a partial too
  (`_partial_=True` passed for the model);
- the model built twice (the optimizer then updates another model's parameters);
- the classes chosen by hand: the course's MLP and SGD whatever `_target_` says, or SGD with
  only the learning rate taken from the configuration;
- the optimizer built with `_partial_=False` and no parameters (fails), or over a list of
  the model's parameters cut short (the last layer forgotten);
- the pair returned in the other order; the configuration changed (`cfg.optimizer.lr` set);
- the course's own `reproml.parts.build_part` called instead of one's own code.
Correct variants: `instantiate(cfg.optimizer, model.parameters(), _partial_=False)`, the
configuration turned into a dict first, `hydra.utils.call` for the optimizer.
"""

from __future__ import annotations

import pytest
from hydra.utils import instantiate
from solution_cells import code_cell, define, mutate

CELL = code_cell("03_hydra.ipynb", "def build_parts(cfg):")
BUILD = "    optimizer = make_optimizer(model.parameters())\n"
PARTIAL = (
    "    make_optimizer = instantiate(cfg.optimizer)  # _partial_: true, a functools.partial\n"
)
MODEL = "    model = instantiate(cfg.model)"


def answer(*changes: tuple[str, str]):
    code = CELL
    for old, new in changes:
        code = mutate(code, old, new)
    return define(code, "build_parts", {"instantiate": instantiate})


def test_the_solution_passes_3_4(evaluate):
    assert evaluate("3.4", answer()) == (True, "passed")


MISTAKES = {
    "the partial returned": (
        [(BUILD, "    optimizer = make_optimizer\n")],
        "returned the optimizer half-built (a functools.partial of SGD)",
    ),
    "the model as a partial": (
        [("model = instantiate(cfg.model)", "model = instantiate(cfg.model, _partial_=True)"),
         (BUILD, "    optimizer = make_optimizer(model().parameters())\n")],
        "returned the model half-built",
    ),
    "the model built twice": (
        [(BUILD, "    optimizer = make_optimizer(instantiate(cfg.model).parameters())\n")],
        "updates no parameter of the model it returned (the model built twice?)",
    ),
    "the course's MLP whatever the target": (
        [("model = instantiate(cfg.model)",
          "from reproml.models import MLP\n    model = MLP(hidden_sizes=[16], dropout=0.1)")],
        "",  # the MLP's sizes or the check's own class give it away
    ),
    "SGD by hand": (
        [(PARTIAL, ""),
         (BUILD, "    import torch\n\n"
                 "    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.optimizer.lr)\n")],
        "",  # no momentum first, or not AdamW
    ),
    "built without its parameters": (
        [(PARTIAL, ""),
         (BUILD, "    optimizer = instantiate(cfg.optimizer, _partial_=False)\n")],
        "raised",
    ),
    "the last layer left out": (
        [(BUILD, "    optimizer = make_optimizer(list(model.parameters())[:-2])\n")],
        "returned an optimizer that updates only ",
    ),
    "the pair in the other order": (
        [("    return model, optimizer", "    return optimizer, model")],
        "the model",
    ),
    "the configuration changed": (
        [(MODEL, f"    cfg.optimizer.lr = 0.01\n{MODEL}")],
        "changed the configuration it was given",
    ),
    "the course's own builder": (
        [("    model = instantiate(cfg.model)",
          "    from reproml.parts import build_part\n\n"
          "    model = build_part(cfg.model, 'model')")],
        "reproml.parts.build_part",
    ),
}  # fmt: skip


@pytest.mark.parametrize("mistake", MISTAKES)
def test_a_wrong_answer_fails_3_4(evaluate, mistake):
    changes, message = MISTAKES[mistake]
    passed, said = evaluate("3.4", answer(*changes))
    assert not passed and message in said, said


VARIANTS = {
    "built in one call": [
        (PARTIAL, ""),
        (BUILD,
         "    optimizer = instantiate(cfg.optimizer, model.parameters(), _partial_=False)\n"),
    ],
    "a plain dict first": [
        ("    model = instantiate(cfg.model)",
         "    from omegaconf import OmegaConf\n\n"
         "    cfg = OmegaConf.to_container(cfg)\n"
         "    model = instantiate(cfg['model'])"),
        ("instantiate(cfg.optimizer)", "instantiate(cfg['optimizer'])"),
    ],
    "hydra.utils.call": [
        ("instantiate(cfg.optimizer)", "__import__('hydra').utils.call(cfg.optimizer)"),
    ],
}  # fmt: skip


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_correct_variant_passes_3_4(evaluate, variant):
    assert evaluate("3.4", answer(*VARIANTS[variant])) == (True, "passed")
