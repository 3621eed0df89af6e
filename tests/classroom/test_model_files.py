"""The leaderboard reads a logged model as plain weights, and refuses anything else."""

import json

import pytest
import torch
from forgeries import pickled_weight, rewrite_archive

from reproml.parts import build_part
from reproml_course.classroom.model_files import (
    MODEL_FILE,
    WEIGHTS_CONFIG,
    Rejected,
    check_model_folder,
    read_weights,
)

SMALL_CNN = {"_target_": "reproml.models.CNN", "channels": [4, 8], "hidden": 16}  # fast


@pytest.fixture(scope="module")
def pt2(tmp_path_factory) -> bytes:
    """A course CNN saved by torch.export, as mlflow.pytorch.log_model writes it."""
    model = build_part(SMALL_CNN, "model").eval()
    program = torch.export.export(model, (torch.zeros(2, 1, 28, 28),))
    path = tmp_path_factory.mktemp("pt2") / "model.pt2"
    torch.export.save(program, path)
    return path.read_bytes()


def weights_of(tmp_path, content: bytes, max_bytes: int = 10**8):
    path = tmp_path / "model.pt2"
    path.write_bytes(content)
    return read_weights(path, max_bytes)


def test_a_course_model_is_indexed_weight_by_weight(tmp_path, pt2):
    weights = weights_of(tmp_path, pt2)
    model = build_part(SMALL_CNN, "model")
    shapes = {w.name: w.sizes for w in weights.tensors}
    assert shapes == {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert {w.dtype for w in weights.tensors} == {"float32", "int64"}  # int64: batch-norm counts
    assert weights.sha256 == weights_of(tmp_path, pt2).sha256


def test_different_weights_have_different_digests(tmp_path, pt2):
    def change(entries):
        name = next(n for n in entries if n.endswith("data/weights/weight_0"))
        entries[name] = bytes(len(entries[name]))

    assert weights_of(tmp_path, rewrite_archive(pt2, change)).sha256 != (
        weights_of(tmp_path, pt2).sha256
    )


def test_a_pickled_weight_is_refused_without_being_read(tmp_path, pt2):
    marker = tmp_path / "ran"
    with pytest.raises(Rejected, match="is stored with pickle, which is never loaded"):
        weights_of(tmp_path, pickled_weight(pt2, marker))
    assert not marker.exists()


def add_entry(name: str, content: bytes = b"x"):
    def change(entries):
        root = next(iter(entries)).split("/")[0]
        entries[f"{root}/{name}"] = content

    return change


@pytest.mark.parametrize(
    "entry",
    [
        "data/aotinductor/model/model.so",  # compiled code, loaded by torch
        "data/constants/custom_obj_0",  # a TorchScript object, unpickled
        "data/constants/opaque_obj_0",  # pickle.loads
        "data/weights/model.pt",  # the legacy weights file, unpickled
        "models/other.json",  # a second program
    ],
)
def test_anything_but_plain_weights_is_refused(tmp_path, pt2, entry):
    with pytest.raises(Rejected, match="which is not a plain weight"):
        weights_of(tmp_path, rewrite_archive(pt2, add_entry(entry)))


def test_constants_are_refused(tmp_path, pt2):
    def change(entries):
        name = next(n for n in entries if n.endswith("model_constants_config.json"))
        entries[name] = json.dumps({"config": {"c": {"path_name": "tensor_0"}}}).encode()

    with pytest.raises(Rejected, match="holds constants"):
        weights_of(tmp_path, rewrite_archive(pt2, change))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda meta: meta["tensor_meta"].update(dtype=12), "not a plain tensor"),  # bool
        (lambda meta: meta["tensor_meta"].update(layout=1), "not a plain tensor"),  # sparse
        (lambda meta: meta.update(path_name="weight_99"), "not a plain tensor"),  # no such file
        (lambda meta: meta["tensor_meta"]["sizes"][0].update(as_int=10**6), "larger than the"),
        (lambda meta: meta["tensor_meta"]["strides"][0].update(as_int=-1), "negative"),
        (lambda meta: meta["tensor_meta"].update(sizes="abc"), "not a plain tensor"),
    ],
)
def test_a_weight_whose_description_lies_is_refused(tmp_path, pt2, edit, message):
    def change(entries):
        name = next(n for n in entries if n.endswith(WEIGHTS_CONFIG))
        config = json.loads(entries[name])
        edit(config["config"]["features.0.weight"])
        entries[name] = json.dumps(config).encode()

    with pytest.raises(Rejected, match=message):
        weights_of(tmp_path, rewrite_archive(pt2, change))


def test_archives_that_are_not_what_torch_writes(tmp_path, pt2):
    with pytest.raises(Rejected, match="is not a pt2 archive"):
        weights_of(tmp_path, b"not a zip file")
    with pytest.raises(Rejected, match="unpacks to more than"):
        weights_of(tmp_path, pt2, max_bytes=1000)
    import io
    import zipfile

    compressed = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(pt2)) as source,
        zipfile.ZipFile(compressed, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        for info in source.infolist():
            archive.writestr(info.filename, source.read(info))
    with pytest.raises(Rejected, match="which is not a plain weight"):  # a zip bomb could hide
        weights_of(tmp_path, compressed.getvalue())


def test_the_model_folder_holds_a_pt2_model_and_nothing_else():
    plain = {"MLmodel": 900, "conda.yaml": 100, MODEL_FILE: 2_000_000}
    check_model_folder(plain, max_bytes=10**8)
    for extra in ("code/evil.py", "pickle_module_info.txt", "data/model.pth", "data/extra.so"):
        with pytest.raises(Rejected, match="which the leaderboard never loads"):
            check_model_folder({**plain, extra: 10}, max_bytes=10**8)
    with pytest.raises(Rejected, match=r"has no data/model\.pt2"):
        check_model_folder({"MLmodel": 900}, max_bytes=10**8)
    with pytest.raises(Rejected, match="is 2 MB, over the 1 MB limit"):
        check_model_folder(plain, max_bytes=1_000_000)


def many_views_of_one_file(count: int):
    """The index lists ``count`` weights, all pointing at the same stored file."""

    def change(entries):
        name = next(n for n in entries if n.endswith(WEIGHTS_CONFIG))
        config = json.loads(entries[name])
        meta = config["config"]["features.0.weight"]
        config["config"] = {f"w{i}": meta for i in range(count)}
        entries[name] = json.dumps(config).encode()

    return change


def test_an_index_pointing_many_weights_at_one_file_reads_it_once(tmp_path, pt2, monkeypatch):
    """A 30 MB archive whose index listed 40,000 weights on one 20 MB file held the leaderboard
    for an hour: the file was read and hashed once per weight."""
    import zipfile

    read = []
    original = zipfile.ZipFile.read

    def counted(self, name, pwd=None):
        data = original(self, name, pwd)
        read.append(len(data))
        return data

    monkeypatch.setattr(zipfile.ZipFile, "read", counted)
    content = rewrite_archive(pt2, many_views_of_one_file(500))
    weights = weights_of(tmp_path, content)
    assert len(weights.tensors) == 500
    assert sum(read) <= 2 * len(content)  # the archive's size, not 500 times a file
    with pytest.raises(Rejected, match="lists 40,000 weights"):
        weights_of(tmp_path, rewrite_archive(pt2, many_views_of_one_file(40_000)))


@pytest.mark.parametrize("protocol", [2, 4])
def test_sample_inputs_that_name_a_function_are_refused_without_being_loaded(
    tmp_path, pt2, protocol
):
    """torch.export.save keeps the example inputs as a torch.save pickle, which the leaderboard
    never loads but mlflow.pytorch.load_model does: it may name tensors and nothing else."""
    import io

    from forgeries import Payload

    marker = tmp_path / "ran"
    buffer = io.BytesIO()
    torch.save(((Payload(f"touch {marker}"),), {}), buffer, pickle_protocol=protocol)

    def change(entries):
        name = next(n for n in entries if n.endswith("data/sample_inputs/model.pt"))
        entries[name] = buffer.getvalue()

    named = "posix system" if protocol == 2 else "<STACK_GLOBAL>"
    with pytest.raises(Rejected, match=f"sample inputs \\(a pickle\\) name {named}"):
        weights_of(tmp_path, rewrite_archive(pt2, change))
    assert not marker.exists()
    weights_of(tmp_path, pt2)  # the example inputs torch writes pass
