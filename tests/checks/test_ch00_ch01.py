import tempfile
from datetime import datetime
from pathlib import Path

from reproml.data import CLASSES
from reproml.tracking.txt import find_best, write_result_file


def test_class_counts(evaluate):
    def right(labels):
        return {name: int((labels == i).sum()) for i, name in enumerate(CLASSES)}

    def skips_absent_classes(labels):
        return {CLASSES[int(k)]: int((labels == k).sum()) for k in labels.unique()}

    assert evaluate("0.1", right) == (True, "passed")
    passed, message = evaluate("0.1", skips_absent_classes)
    assert not passed and "class names in label order" in message


def test_write_result(evaluate):
    def safe(folder, params, metrics):
        return write_result_file(folder, params, metrics)

    def overwrites(folder, params, metrics):
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        path = folder / ("_".join([*(f"{k}={v}" for k, v in params.items()), stamp]) + ".txt")
        path.write_text("".join(f"{k}={float(v)!r}\n" for k, v in metrics.items()))
        return path

    def leaves_temp_files(folder, params, metrics):
        path = safe(folder, params, metrics)
        tempfile.NamedTemporaryFile(dir=folder, delete=False).close()
        return path

    def rounds(folder, params, metrics):
        return write_result_file(folder, params, {k: round(v, 2) for k, v in metrics.items()})

    assert evaluate("1.1", safe) == (True, "passed")
    assert "replaced a result file that already existed" in evaluate("1.1", overwrites)[1]
    assert "only the result file should be left" in evaluate("1.1", leaves_temp_files)[1]
    assert "was written as" in evaluate("1.1", rounds)[1]


def test_find_best_run(evaluate):
    def right(folder, metric):
        return Path(folder) / find_best(folder, metric)["file"]

    def by_name(folder, metric):  # the largest file name, not the largest metric
        return max(Path(folder).glob("*.txt"))

    assert evaluate("1.2", right) == (True, "passed")
    passed, message = evaluate("1.2", by_name)
    assert not passed and "Hint: read the metric from inside each file" in message
