"""The evaluation worker of ``evaluator``: a process of its own, started with a clean
environment and capped memory, that reads the instructor's whole test set once, then answers one
JSON request per line on its standard input (build the course model the run's parameters name,
copy the raw weights into it, count the test images it gets right, under a limit of CPU time)
until standard input closes. Only this process imports torch. ``Evaluator`` starts it, never a
person:

    python -m reproml_course.classroom.evaluator_worker DATA_ROOT MEMORY_BYTES CPU_SECONDS
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import time
from pathlib import Path

# Images per forward pass: with the default CNN on the full test set the worker peaked at 1,010 MB
# (RSS, torch's CUDA build) with 1,000, at 840 MB with 250; it runs beside the student's kernel.
BATCH = 250


def _limit_memory(extra_bytes: int) -> None:
    import resource

    with open("/proc/self/status") as status:
        size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize"))
    resource.setrlimit(resource.RLIMIT_AS, (size + extra_bytes, size + extra_bytes))


def _limit_cpu_time(seconds: float) -> None:
    """From now on, ``seconds`` more of CPU time: then the kernel ends the worker (SIGXCPU)."""
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # SIGXCPU would otherwise dump a core
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime + seconds)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, resource.getrlimit(resource.RLIMIT_CPU)[1]))


def _state_dict(request: dict) -> dict:
    import zipfile

    import torch

    tensors, storages = {}, {}
    with zipfile.ZipFile(request["path"]) as archive:
        for t in request["tensors"]:
            dtype = getattr(torch, t["dtype"])
            if t["member"] not in storages:  # tensors sharing a file share the storage
                raw = bytearray(archive.read(t["member"]))
                storages[t["member"]] = torch.frombuffer(raw, dtype=dtype) if raw else None
            storage = storages[t["member"]]
            if storage is None:
                tensors[t["name"]] = torch.zeros(t["sizes"], dtype=dtype)
            else:
                tensors[t["name"]] = storage.as_strided(t["sizes"], t["strides"], t["offset"])
    return tensors


def _count_correct(request: dict, test) -> dict:
    import torch

    from reproml.base.errors import ConfigError
    from reproml.data import normalize
    from reproml.parts import build_part, check_course_part

    spec = request["model"]
    try:
        check_course_part("model", spec)  # again: what the parent sent is a student's
        model = build_part(spec, "model")
    except (ConfigError, TypeError, ValueError) as error:
        return {"problem": f"the leaderboard cannot build its model {spec}: {error}"}
    try:
        model.load_state_dict(_state_dict(request), strict=True)
    except (RuntimeError, ValueError) as error:
        reason = str(error).strip().splitlines()[0][:160]
        target = spec.get("_target_")
        return {"problem": f"its weights do not fit the course's {target!r} model: {reason}"}
    model.eval()
    correct, predictions = 0, hashlib.sha256()
    with torch.inference_mode():
        for start in range(0, len(test), BATCH):
            logits = model(normalize(test.images[start : start + BATCH]))
            n = len(test.labels[start : start + BATCH])
            if tuple(logits.shape) != (n, 10) or not logits.dtype.is_floating_point:
                return {"problem": f"its model returns {tuple(logits.shape)}, not ({n}, 10) scores"}
            answers = logits.argmax(1)
            correct += int((answers == test.labels[start : start + BATCH]).sum())
            predictions.update(answers.to(torch.uint8).numpy().tobytes())
    return {"correct": correct, "predictions_sha256": predictions.hexdigest()}


def worker(data_root: str, memory_bytes: int, cpu_seconds: float) -> None:
    """Answer requests, one JSON line each, until standard input closes."""
    os.chdir(os.environ["HOME"])
    try:
        import torch

        from reproml.data import load_test_set, sha256_of

        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
        test = load_test_set(Path(data_root))
        ready = {"test_images": len(test), "sha256": sha256_of(test.images, test.labels)}
    except Exception as error:  # the data is missing or damaged: say so, in one line
        ready = {"error": str(error)}
    print(json.dumps(ready), flush=True)
    if "error" in ready:
        return
    _limit_memory(memory_bytes)
    for line in sys.stdin:
        _limit_cpu_time(cpu_seconds)
        started = time.perf_counter()
        try:
            answer = _count_correct(json.loads(line), test)
        except MemoryError:
            answer = {"problem": "evaluating it went over the memory limit", "restart": True}
        except RuntimeError as error:
            memory = "alloc" in str(error).lower() or "memory" in str(error).lower()
            reason = "went over the memory limit" if memory else str(error).splitlines()[0][:160]
            answer = {"problem": f"evaluating it failed: {reason}", "restart": memory}
        answer["seconds"] = round(time.perf_counter() - started, 3)
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    worker(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]))
