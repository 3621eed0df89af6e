from __future__ import annotations

import os
from datetime import datetime

import pytest

from reproml.experiment import run_experiment
from reproml.tracking.txt import (
    ResultFileError,
    find_best,
    parse_result_file_name,
    read_result_files,
    result_file_name,
    write_result_file,
)

WHEN = datetime(2026, 11, 23, 9, 35, 12)
PARAMS = {"model": "cnn", "optimizer": "adam", "lr": 0.001, "epochs": 15}
METRICS = {"test_accuracy": 0.8569000124931335, "test_macro_f1": 0.8576}


def test_the_name_encodes_parameters_and_timestamp():
    name = result_file_name(PARAMS, WHEN)
    assert name == "model=cnn_optimizer=adam_lr=0.001_epochs=15_20261123-093512.txt"


def test_round_trip_keeps_values_and_number_types(tmp_path):
    params = {**PARAMS, "wd": 1e-05, "tag": "v1.2"}  # dots in values
    path = write_result_file(tmp_path, params, METRICS, WHEN)
    row = read_result_files(tmp_path).iloc[0].to_dict()
    assert {key: row[key] for key in params} == params
    assert isinstance(row["epochs"], int) and isinstance(row["lr"], float)
    assert row["test_accuracy"] == METRICS["test_accuracy"]  # exact, not rounded
    assert row["timestamp"] == WHEN and row["file"] == path.name


def test_a_crash_while_writing_leaves_no_file(tmp_path):
    class Broken:
        def __float__(self):
            raise RuntimeError("crash in the middle of writing")

    with pytest.raises(RuntimeError):
        write_result_file(tmp_path, PARAMS, {"test_accuracy": 0.9, "test_macro_f1": Broken()}, WHEN)
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and file-size limits")
@pytest.mark.parametrize("count, limit", [(200, 300), (40, 100)])
def test_a_full_disk_leaves_no_file(tmp_path, count, limit):
    """The disk fills up mid-file (a file-size limit, in a child). With 40 metrics everything
    sits in the buffer until the flush, and the clean-up's close() fails again on it: an
    unguarded close() there once left the temporary file behind."""
    import resource
    import signal

    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
            metrics = {f"metric_{i:03d}": 1 / (i + 3) for i in range(count)}
            write_result_file(tmp_path, PARAMS, metrics, WHEN)
        except ResultFileError:
            code = 3
        except BaseException:
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 3  # refused with the course's message
    assert os.listdir(tmp_path) == []


def test_two_runs_in_the_same_second_cannot_both_be_kept(tmp_path):
    first = write_result_file(tmp_path, PARAMS, METRICS, WHEN)
    with pytest.raises(ResultFileError, match="finished in the same second"):
        write_result_file(tmp_path, PARAMS, {"test_accuracy": 0.1}, WHEN)
    assert os.listdir(tmp_path) == [first.name]
    assert "0.8569" in first.read_text()  # the first result was not overwritten


def test_an_underscore_in_a_value_makes_the_name_unreadable(tmp_path):
    path = write_result_file(tmp_path, {**PARAMS, "model": "cnn_small"}, METRICS, WHEN)
    with pytest.raises(ResultFileError, match="'small', which has no '='") as error:
        read_result_files(tmp_path)
    assert path.name in str(error.value)


def test_a_slash_cannot_go_in_a_name(tmp_path):
    with pytest.raises(ResultFileError, match="contains '/'"):
        write_result_file(tmp_path, {"data": "../shared/data"}, METRICS, WHEN)


def test_a_parameter_added_later_is_unknown_for_older_runs(tmp_path):
    write_result_file(tmp_path, PARAMS, {"test_accuracy": 0.80}, WHEN)
    later = datetime(2026, 11, 24, 10, 0, 0)
    write_result_file(tmp_path, {**PARAMS, "bs": 32}, {"test_accuracy": 0.85}, later)
    table = read_result_files(tmp_path)
    assert table["bs"].isna().tolist() == [True, False]
    assert find_best(tmp_path)["bs"] == 32


def test_an_underscore_in_a_name_is_refused_when_writing(tmp_path):
    with pytest.raises(ResultFileError, match="'batch_size'"):
        write_result_file(tmp_path, {"batch_size": 32}, METRICS, WHEN)
    assert os.listdir(tmp_path) == []


def test_find_best(tmp_path):
    for second, accuracy in enumerate([0.81, 0.86, 0.86, 0.79]):
        write_result_file(
            tmp_path, PARAMS, {"test_accuracy": accuracy}, WHEN.replace(second=second)
        )
    best = find_best(tmp_path, "test_accuracy")
    assert best["test_accuracy"] == 0.86
    assert best["timestamp"] == WHEN.replace(second=1)  # the first of a tie


def test_find_best_explains_what_is_missing(tmp_path):
    with pytest.raises(ResultFileError, match="holds no result files"):
        find_best(tmp_path)
    write_result_file(tmp_path, PARAMS, METRICS, WHEN)
    with pytest.raises(ResultFileError, match=r"Recorded: .*test_accuracy"):
        find_best(tmp_path, "val_accuracy")


def test_foreign_files_are_named(tmp_path):
    (tmp_path / "notes.txt").write_text("remember to try sgd\n")
    with pytest.raises(ResultFileError, match=r"notes\.txt"):
        read_result_files(tmp_path)
    with pytest.raises(ResultFileError, match="not a timestamp"):
        parse_result_file_name("notes.txt")


def test_unwritable_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ResultFileError, match="Cannot write results to"):
        write_result_file(blocker / "results", PARAMS, METRICS, WHEN)


def test_tracking_txt_writes_one_file_per_run(tracked_config, data, tmp_path):
    result = run_experiment(tracked_config("txt", ["model=logreg"]), data=data)
    [path] = (tmp_path / "results").iterdir()
    assert path.name.startswith("model=logreg_optimizer=adam_lr=0.001_epochs=1_seed=42_")
    assert str(path) in result.saved_to
    row = read_result_files(tmp_path / "results").iloc[0]
    assert row["test_accuracy"] == result.metrics["test_accuracy"]


def test_tracking_txt_checks_the_folder_before_training(make_config, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    cfg = make_config(["tracking=txt", f"tracking.folder={blocker}", "data.root=/nonexistent"])
    with pytest.raises(ResultFileError, match="Choose another folder"):
        run_experiment(cfg)
