from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch

from reproml.base.errors import ConfigError, DataError
from reproml.training import Callback, EpochRecord, predict, train


def without_times(history: list[EpochRecord]) -> list[EpochRecord]:
    return [replace(record, seconds=0.0) for record in history]


def test_loss_falls_and_the_model_learns(make_config, data):
    result = train(make_config(["model=mlp", "trainer.epochs=4"]), data=data)
    losses = [record.train_loss for record in result.history]
    assert losses == sorted(losses, reverse=True)
    assert result.metrics["test_accuracy"] > 0.8  # chance is 0.1
    assert result.metrics["test_macro_f1"] > 0.8


def test_result_describes_the_run(make_config, data, synthetic):
    result = train(make_config(["model=logreg", "trainer.epochs=2"]), data=data)
    assert [record.epoch for record in result.history] == [1, 2]
    assert result.confusion_matrix.shape == (10, 10)
    assert int(result.confusion_matrix.sum()) == len(data.test)
    assert result.device == "cpu"
    assert result.config.model._target_ == "reproml.models.LogisticRegression"
    assert result.config.data.root == str(synthetic.root)
    assert result.data_sizes == data.sizes()
    assert set(result.metrics) == {"val_accuracy", "test_accuracy", "test_macro_f1"}
    assert result.metrics["val_accuracy"] == result.history[-1].val_accuracy


def test_same_config_and_seed_give_identical_results(make_config, data):
    first = train(make_config(["model=cnn", "trainer.epochs=2"]), data=data)
    second = train(make_config(["model=cnn", "trainer.epochs=2"]), data=data)
    assert first.metrics == second.metrics
    assert without_times(first.history) == without_times(second.history)
    for name, tensor in first.model.state_dict().items():
        assert torch.equal(tensor, second.model.state_dict()[name]), name


def test_the_run_uses_the_configured_threads(make_config, data):
    """A convolution splits its sums by thread: the count is set once, for the whole run."""
    before = torch.get_num_threads()
    try:
        overrides = ["model=cnn", "trainer.epochs=2", "trainer.threads=1"]
        one = train(make_config(overrides), data=data)
        assert torch.get_num_threads() == 1
        again = train(make_config(overrides), data=data)
        assert one.metrics == again.metrics
    finally:
        torch.set_num_threads(before)


def test_another_seed_gives_another_model(make_config, data):
    first = train(make_config(["model=cnn", "seed=1"]), data=data)
    second = train(make_config(["model=cnn", "seed=2"]), data=data)
    weights = zip(first.model.parameters(), second.model.parameters(), strict=True)
    assert not all(torch.equal(a, b) for a, b in weights)


def test_loads_the_data_itself_when_not_given(make_config):
    result = train(make_config(["model=logreg"]))
    assert result.data_sizes == {"train": 360, "val": 40, "test": 200}


def test_without_validation_split(make_config, data, synthetic):
    result = train(make_config(["model=logreg", "data.val_fraction=0"]))
    assert math.isnan(result.history[0].val_accuracy)
    assert result.data_sizes["val"] == 0


def test_learning_rate_schedules(make_config, data):
    cosine = train(make_config(["model=logreg", "trainer.epochs=2"]), data=data)
    constant = train(
        make_config(["model=logreg", "trainer.epochs=2", "scheduler=constant"]), data=data
    )
    lr = cosine.config.optimizer.lr
    steps = math.ceil(len(data.train) / cosine.config.trainer.batch_size)  # per epoch

    def cosine_at(step: int) -> float:
        return lr * (1 + math.cos(math.pi * step / (2 * steps))) / 2

    # The rate each epoch's last step used: never the 0 the schedule reaches after the very
    # last step, when nothing trains any more.
    assert cosine.history[0].learning_rate == pytest.approx(cosine_at(steps - 1), rel=1e-6)
    assert cosine.history[-1].learning_rate == pytest.approx(cosine_at(2 * steps - 1), rel=1e-6)
    assert cosine.history[-1].learning_rate > 0
    assert [r.learning_rate for r in constant.history] == [lr, lr]


def test_a_configuration_without_a_scheduler_group_decays_along_a_cosine(make_config, data):
    """An app with its own conf/ may have no scheduler group: it gets the course's cosine."""
    with_group = train(make_config(["model=logreg", "trainer.epochs=2"]), data=data)
    config = make_config(["model=logreg", "trainer.epochs=2"])
    del config.scheduler
    without = train(config, data=data)
    assert [r.learning_rate for r in without.history] == [
        r.learning_rate for r in with_group.history
    ]
    assert without.metrics == with_group.metrics


def test_a_bad_part_fails_before_the_data_is_read(make_config, tmp_path):
    cfg = make_config(["model=cnn", "+model.hidden_sizes=[10]", f"data.root={tmp_path}"])
    with pytest.raises(ConfigError, match="model 'cnn' has no parameter hidden_sizes"):
        train(cfg)
    cfg = make_config([f"data.root={tmp_path}"])
    cfg.scheduler = {"_target_": "reproml.schedules.linear", "_partial_": True}
    with pytest.raises(ConfigError, match=r"Cannot build scheduler 'reproml\.schedules\.linear'"):
        train(cfg)


class Recorder(Callback):
    def __init__(self, fail_at_batch: int | None = None):
        self.batches: list[tuple[int, int]] = []
        self.epochs: list[int] = []
        self.fail_at_batch = fail_at_batch

    def on_batch_end(self, epoch, batch, loss):
        self.batches.append((epoch, batch))
        if batch == self.fail_at_batch:
            raise KeyboardInterrupt

    def on_epoch_end(self, record):
        self.epochs.append(record.epoch)


def test_callbacks_see_every_batch_and_epoch(make_config, data):
    recorder = Recorder()
    train(
        make_config(["model=logreg", "trainer.epochs=2", "trainer.batch_size=100"]),
        data=data,
        callbacks=[recorder],
    )
    assert recorder.epochs == [1, 2]
    assert recorder.batches == [(e, b) for e in (1, 2) for b in range(4)]  # 360 images / 100


def test_an_interrupt_in_a_callback_stops_training(make_config, data):
    recorder = Recorder(fail_at_batch=1)
    with pytest.raises(KeyboardInterrupt):
        train(make_config(["model=logreg", "trainer.epochs=2"]), data=data, callbacks=[recorder])
    assert recorder.epochs == []


def test_bad_config_fails_before_the_data_is_read(make_config, tmp_path):
    cfg = make_config(["optimizer.lr=-1", f"data.root={tmp_path}"])
    with pytest.raises(ConfigError, match=r"optimizer\.lr"):
        train(cfg)


def test_missing_data_fails_before_training(make_config, tmp_path):
    with pytest.raises(DataError, match="Fashion-MNIST not found"):
        train(make_config([f"data.root={tmp_path}"]))


def test_predict_keeps_the_model_mode(data):
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10))
    model.train()
    predictions = predict(model, data.test, batch_size=64)
    assert predictions.shape == (len(data.test),)
    assert model.training


def test_the_trained_model_comes_back_ready_for_inference(make_config):
    """Evaluation mode and PyTorch's default layout: what exporting it (log_model) needs."""
    result = train(make_config(["model=cnn"]))
    assert not result.model.training
    assert all(p.is_contiguous() for p in result.model.parameters())
