"""Chapter 06: two tracked runs that disagree, for a cause the student must find.

``plant_disagreement`` trains a run, then a second one that differs from it for one cause
drawn at random, each the way it happens in a real project:

- ``config``: a value changed by hand (the learning rate or the batch size);
- ``data``: labels corrected in the data folder between the two runs (same path, new files);
- ``code``: a copy of the training code whose batch order comes from an unseeded generator,
  so that nothing the run records differs, only its results.

The cause is kept here, not in the runs; ``reveal_cause`` says it once the student has looked.
"""

from __future__ import annotations

import random
import shutil
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

from reproml.data import RAW_FILES, raw_folder

CAUSES = ("config", "data", "code")
_planted: dict[str, str] = {}


def plant_disagreement(
    setup, folder: Path, experiment: str, cause: str | None = None, seed: int | None = None
) -> tuple[str, str]:
    """Train runs A and B into ``experiment`` (the active store); returns their run ids.

    Both train on a copy of the course's data in ``folder`` (so that the data can change
    under the same path); ``cause`` is drawn at random unless given."""
    from reproml.experiment import run_experiment

    rng = random.Random(seed)
    cause = cause or rng.choice(CAUSES)
    if cause not in CAUSES:
        raise ValueError(f"cause must be one of {', '.join(CAUSES)}, not {cause!r}")
    data_root = _copy_data(setup.data_root, folder / "data")
    overrides = [
        "model=mlp",
        f"data.root={data_root}",
        "tracking=mlflow",
        f"tracking.experiment={experiment}",
        "trainer.progress=false",
    ]
    config_a = setup.config(*overrides, "tracking.run_name=run-A")
    run_a = run_experiment(config_a).run_id
    with ExitStack() as planted:
        if cause == "config":  # a value of run A's configuration, doubled or halved
            lr, batch_size = config_a.optimizer.lr, config_a.trainer.batch_size
            changes = [f"optimizer.lr={2 * lr}", f"optimizer.lr={lr / 2}",
                       f"trainer.batch_size={2 * batch_size}"]  # fmt: skip
            overrides.append(rng.choice(changes))
        elif cause == "data":
            _change_some_labels(data_root, rng)
        else:
            planted.enter_context(_unseeded_batch_order())
        run_b = run_experiment(setup.config(*overrides, "tracking.run_name=run-B")).run_id
    _planted[run_b] = cause
    return run_a, run_b


def reveal_cause(run_b: str) -> str:
    """What was planted in run B (after you have found it)."""
    return {
        "config": "a configuration value was changed by hand between the runs",
        "data": "some training labels were changed in the data folder between the runs",
        "code": "run B's training code drew its batch order from an unseeded generator",
    }.get(_planted.get(run_b, ""), "nothing planted in this run by this kernel")


def _copy_data(source: Path, target: Path) -> Path:
    """A fresh copy of the raw files, in the layout torchvision reads."""
    if target.exists():
        shutil.rmtree(target)
    raw = raw_folder(target)
    raw.mkdir(parents=True)
    for name in RAW_FILES:
        shutil.copyfile(raw_folder(source) / name, raw / name)
    return target


def _change_some_labels(root: Path, rng: random.Random, share: float = 0.05) -> None:
    """Give ``share`` of the training images another label, in place (IDX: 8-byte header)."""
    path = raw_folder(root) / "train-labels-idx1-ubyte"
    content = bytearray(path.read_bytes())
    count = len(content) - 8
    for index in rng.sample(range(count), max(1, int(count * share))):
        content[8 + index] = (content[8 + index] + rng.randint(1, 9)) % 10
    path.write_bytes(bytes(content))


def _unseeded_batch_order():
    import torch

    def unseeded(seed: int) -> torch.Generator:
        generator = torch.Generator()
        generator.seed()  # from the operating system's entropy: differs every call
        return generator

    return mock.patch("reproml.training.batch_order_generator", unseeded)
