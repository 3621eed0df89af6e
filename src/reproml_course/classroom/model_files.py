"""What a logged model must look like for the leaderboard to read it: numbers, nothing to run.

MLflow's loader is never used on a student's model: it imports a model's ``code/`` and its
``pickle_module`` before checking anything, and unpickles ``model.pth``. Nor is
``torch.export.load``: besides the pickled weights a ``.pt2`` archive may hold, rebuilding the
exported graph resolves any ``torch.<attribute path>`` named in the file as a function to call
(``torch.os.system`` is one) and parses its shape expressions with sympy, which evaluates them.
The leaderboard reads only the weights: the archive's JSON index and its raw tensor files,
checked here without torch, then copied into one of the course's models (see ``evaluator``).
"""

from __future__ import annotations

import hashlib
import io
import json
import pickletools
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

MODEL_FILE = "data/model.pt2"
MAX_WEIGHTS = 1_000  # entries of a state dict: the course's default CNN has 16
# What mlflow.pytorch.log_model writes besides the archive, all plain text the leaderboard
# never reads. Anything else (code/, pickle_module_info.txt, data/model.pth...) is refused.
HARMLESS_FILES = frozenset({
    "MLmodel", "conda.yaml", "python_env.yaml", "requirements.txt",
    "input_example.json", "serving_input_example.json", "registered_model_meta",
})  # fmt: skip
WEIGHTS_CONFIG = "data/weights/model_weights_config.json"
SAMPLE_INPUTS = "data/sample_inputs/model.pt"
MAX_SAMPLE_PICKLE = 1 << 20
# What a pickle of plain tensors names (torch.save's, protocol 2): nothing here runs code.
TENSOR_GLOBALS = frozenset({
    "torch._utils _rebuild_tensor_v2", "collections OrderedDict", "torch Size",
    *(f"torch {kind}Storage" for kind in (
        "Float", "Double", "Half", "BFloat16", "Long", "Int", "Short", "Char", "Byte", "Bool",
    )),
})  # fmt: skip
CONSTANTS_CONFIG = "data/constants/model_constants_config.json"
# Entries of a pt2 archive (under its root folder) that torch.export.save writes for one model.
# Compiled code (data/aotinductor/), pickled objects (custom_obj_, opaque_obj_) and legacy
# pickled weight files match none of these.
ARCHIVE_ENTRY = re.compile(
    r"archive_format|archive_version|byteorder|\.data/version|\.data/serialization_id"
    r"|models/model\.json|data/sample_inputs/model\.pt|extra/[\w.-]+"
    r"|data/weights/(model_weights_config\.json|weight_\d+)"
    r"|data/constants/model_constants_config\.json"
)
# torch.export's serialized ScalarType codes -> (name, bytes per element).
DTYPES = {
    5: ("int64", 8), 6: ("float16", 2), 7: ("float32", 4), 8: ("float64", 8), 13: ("bfloat16", 2),
}  # fmt: skip
STRIDED = 7  # the serialized Layout of an ordinary dense tensor


class Rejected(Exception):
    """The model cannot be verified, for a reason that is the run's: the leaderboard's verdict."""


@dataclass(frozen=True)
class Weight:
    """One tensor of the state dict: which archive member holds it and how to view it."""

    name: str  # the state-dict key, e.g. "features.0.weight"
    member: str  # the archive member with its raw bytes
    dtype: str
    sizes: tuple[int, ...]
    strides: tuple[int, ...]
    offset: int


@dataclass(frozen=True)
class Weights:
    path: Path
    tensors: tuple[Weight, ...]
    sha256: str  # of names, layouts and bytes: two runs with the same weights share it

    def as_request(self) -> dict:
        return {"path": str(self.path), "tensors": [vars(t) for t in self.tensors]}


def check_model_folder(files: dict[str, int | None], max_bytes: int) -> None:
    """``files``: every file of the logged model with its size. Refuse anything but a pt2 model
    with MLflow's plain-text descriptions, and a model file over ``max_bytes``."""
    others = sorted(f for f in files if f != MODEL_FILE and f not in HARMLESS_FILES)
    if others:
        shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
        raise Rejected(
            f"its model folder holds {shown}, which the leaderboard never loads (code or pickled "
            "objects could run on the machine that ranks it): log the model with "
            "mlflow.pytorch.log_model in its default pt2 format, and nothing else"
        )
    if MODEL_FILE not in files:
        raise Rejected(f"its model has no {MODEL_FILE}: log it in MLflow's default pt2 format")
    size = files[MODEL_FILE] or 0
    if size > max_bytes:
        raise Rejected(
            f"its model file is {size / 1e6:.3g} MB, over the {max_bytes / 1e6:.3g} MB limit"
        )


def read_weights(path: Path, max_bytes: int) -> Weights:
    """Check a downloaded ``model.pt2`` and index its weights; raise Rejected if it is anything
    but plain tensors of the kinds a course model has."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise Rejected(f"its {MODEL_FILE} is not a pt2 archive") from None
    with archive:
        entries = _checked_entries(archive, max_bytes)
        if archive.read(entries["archive_format"]) != b"pt2":
            raise Rejected(f"its {MODEL_FILE} is not a pt2 archive")
        for name in (WEIGHTS_CONFIG, CONSTANTS_CONFIG):
            if name not in entries:
                raise Rejected(f"its pt2 archive has no {name}")
        if SAMPLE_INPUTS in entries:
            check_sample_inputs(archive.read(entries[SAMPLE_INPUTS]))
        if _payload(archive, entries[CONSTANTS_CONFIG]):
            raise Rejected("its pt2 archive holds constants, which the course's models never have")
        payload = _payload(archive, entries[WEIGHTS_CONFIG])
        if len(payload) > MAX_WEIGHTS:
            raise Rejected(
                f"its pt2 archive lists {len(payload):,} weights; the course's models have "
                f"fewer than {MAX_WEIGHTS:,}"
            )
        tensors = tuple(_weight(name, meta, entries, archive) for name, meta in payload.items())
        # Each stored file is read once, however many weights its index points at it: the
        # work stays within the archive's size whatever the index says.
        stored = {m: hashlib.sha256(archive.read(m)).digest() for m in {w.member for w in tensors}}
        digest = hashlib.sha256()
        for weight in sorted(tensors, key=lambda w: w.name):
            digest.update(json.dumps([weight.name, weight.dtype, weight.sizes, weight.strides,
                                      weight.offset]).encode())  # fmt: skip
            digest.update(stored[weight.member])
    return Weights(path, tensors, digest.hexdigest())


def check_sample_inputs(content: bytes) -> None:
    """The example inputs torch.export.save keeps are a pickle (a torch.save archive), which
    the leaderboard never loads, but ``mlflow.pytorch.load_model`` (chapter 04's way) does:
    whoever loads the model would run what it names. Its opcodes are read, never executed,
    and it may name nothing but what rebuilds a tensor."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as inner:
            pickles = [i for i in inner.infolist() if i.filename.endswith("data.pkl")]
            if len(pickles) != 1 or pickles[0].file_size > MAX_SAMPLE_PICKLE:
                raise Rejected("its pt2 archive's sample inputs are not one small torch.save file")
            program = inner.read(pickles[0])
        names = []
        for opcode, argument, _ in pickletools.genops(program):
            if opcode.name in ("GLOBAL", "INST"):
                names.append(str(argument))
            elif opcode.name in ("STACK_GLOBAL", "OBJ", "EXT1", "EXT2", "EXT4"):
                names.append(f"<{opcode.name}>")  # a name built at load time: never allowed
    except (zipfile.BadZipFile, ValueError, EOFError, OSError):
        raise Rejected("its pt2 archive's sample inputs are not a readable torch.save") from None
    unexpected = sorted({n for n in names if n not in TENSOR_GLOBALS})
    if unexpected:
        raise Rejected(
            f"its pt2 archive's sample inputs (a pickle) name {', '.join(unexpected[:3])}: "
            "loading the model with mlflow.pytorch.load_model would call it"
        )


def _checked_entries(archive: zipfile.ZipFile, max_bytes: int) -> dict[str, str]:
    """{entry below the root folder: member name}, after refusing anything unexpected."""
    infos = archive.infolist()
    names = [info.filename for info in infos]
    if len(set(names)) != len(names):
        raise Rejected("its pt2 archive names a file twice")
    roots = {name.split("/", 1)[0] for name in names}
    if len(roots) != 1 or any("/" not in name for name in names):
        raise Rejected("its pt2 archive is not laid out as torch.export.save writes one")
    if sum(info.file_size for info in infos) > max_bytes:
        raise Rejected(f"its pt2 archive unpacks to more than {max_bytes / 1e6:.3g} MB")
    entries = {}
    for info in infos:
        entry = info.filename.split("/", 1)[1]
        if info.compress_type != zipfile.ZIP_STORED or not ARCHIVE_ENTRY.fullmatch(entry):
            raise Rejected(
                f"its pt2 archive holds {entry!r}, which is not a plain weight (compiled code "
                "or pickled objects are never loaded)"
            )
        entries[entry] = info.filename
    return entries


def _payload(archive: zipfile.ZipFile, member: str) -> dict:
    try:
        config = json.loads(archive.read(member))["config"]
    except (ValueError, KeyError, TypeError):
        raise Rejected(f"its pt2 archive's {member.split('/', 1)[1]} is not readable") from None
    if not isinstance(config, dict):
        raise Rejected(f"its pt2 archive's {member.split('/', 1)[1]} is not readable")
    return config


def _weight(name: str, meta: dict, entries: dict[str, str], archive: zipfile.ZipFile) -> Weight:
    try:
        if meta["use_pickle"] is not False:
            raise Rejected(f"its weight {name!r} is stored with pickle, which is never loaded")
        member = entries.get(f"data/weights/{meta['path_name']}")
        tensor = meta["tensor_meta"]
        dtype, element = DTYPES[tensor["dtype"]]
        sizes = tuple(_int(s) for s in tensor["sizes"])
        strides = tuple(_int(s) for s in tensor["strides"])
        offset = _int(tensor["storage_offset"])
        layout = tensor["layout"]
    except (KeyError, TypeError, ValueError):
        raise Rejected(f"its weight {name!r} is not a plain tensor the leaderboard reads") from None
    if member is None or layout != STRIDED or len(sizes) != len(strides) or not name:
        raise Rejected(f"its weight {name!r} is not a plain tensor the leaderboard reads")
    if min((*sizes, *strides, offset), default=0) < 0:
        raise Rejected(f"its weight {name!r} has a negative size or stride")
    needed = offset + sum((n - 1) * s for n, s in zip(sizes, strides, strict=True)) + 1
    if 0 not in sizes and needed * element > archive.getinfo(member).file_size:
        raise Rejected(f"its weight {name!r} is larger than the bytes stored for it")
    return Weight(name, member, dtype, sizes, strides, offset)


def _int(value: dict) -> int:
    number = value["as_int"]
    if not isinstance(number, int) or isinstance(number, bool):
        raise ValueError(number)
    return number


def model_files(client, model_id: str, path: str | None = None) -> dict[str, int | None]:
    """Every file of a logged model folder with its size, as the store lists them."""
    files = {}
    for info in client.list_logged_model_artifacts(model_id, path):
        if info.is_dir:
            files.update(model_files(client, model_id, info.path))
        else:
            files[info.path] = info.file_size
    return files
