"""Chapter 01's check of the result writer (1.1), against the mistakes students make. Each wrong
answer is the solution's cell with one plausible mistake in it:

- the result written straight to its final name (a crash leaves half a file);
- the whole text built first, then written to the final name (a full disk leaves half a file);
- a temporary file never removed when writing fails, or flushed only at close, outside the
  clean-up (the full disk shows there); a clean-up that closes the file before removing it,
  unguarded: on a full disk the close fails too (it writes what the buffer holds) and the
  removal never runs (seen in the course's own solution until a reviewer filled a disk);
- ``os.replace`` / ``os.rename`` (they overwrite an earlier result), with or without a look
  first whether the name is free (another run can take it between the look and the write);
- errors swallowed, the path returned as if all went well, or the interruption swallowed after
  the clean-up (another error follows); a refusal with another error than FileExistsError (the
  notebook catches that one);
- a folder given as text (``"results"``) not turned into a path;
- a taken name avoided with a suffix, the result then stored under another name;
- values rounded (``:.4f``, ``:g``); falsy values (``0.0``) or parameters (``seed=0``) skipped;
- parameters sorted, or typed by hand; the time formatted another way;
- the temporary file made in the system's temporary folder, not the result folder;
- the folder created without its parents, or only when it does not exist (``exist_ok``);
- the temporary name returned, or left beside the result;
- the course's own ``write_result_file`` called.
Correct variants that must pass: the solution, values formatted with ``json.dumps`` or
``str``, a temporary file from ``mkstemp``.
"""

from __future__ import annotations

import pytest
from solution_cells import code_cell, define, mutate

WRITER = code_cell("01_results_in_txt_files.ipynb", "def write_result")
VALUE = 'tmp.write(f"{name}={float(value)!r}\\n")'


def writer(*changes: tuple[str, str]):
    code = WRITER
    for old, new in changes:
        code = mutate(code, old, new)
    return define(code, "write_result")


def test_the_solution_passes(evaluate):
    for _ in range(3):
        assert evaluate("1.1", writer()) == (True, "passed")


MKSTEMP = """    handle, temporary = tempfile.mkstemp(dir=folder, suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as out:
            out.write("".join(f"{k}={float(v)!r}\\n" for k, v in metrics.items()))
            out.flush()
        path.hardlink_to(temporary)  # the name, or FileExistsError
    finally:
        os.unlink(temporary)
    return path
"""
REST = WRITER[WRITER.index("    with tempfile.NamedTemporaryFile") :]

CORRECT = {
    "json.dumps": [
        (VALUE, 'tmp.write(f"{name}={json.dumps(value)}\\n")'),
        ("import os\n", "import json\nimport os\n"),
    ],
    "str": [(VALUE, 'tmp.write(f"{name}={value}\\n")')],
    "mkstemp, hardlink_to": [(REST, MKSTEMP)],
}


@pytest.mark.parametrize("variant", CORRECT)
def test_a_correct_variant_passes(evaluate, variant):
    for _ in range(3):
        assert evaluate("1.1", writer(*CORRECT[variant])) == (True, "passed")


STRAIGHT = """    Path(folder).mkdir(parents=True, exist_ok=True)
    with open(path, "x") as file:
        for name, value in metrics.items():
            file.write(f"{name}={float(value)!r}\\n")
    return path
"""
WHOLE_TEXT = """    if path.exists():
        raise FileExistsError(path)
    path.write_text("".join(f"{k}={float(v)!r}\\n" for k, v in metrics.items()))
    return path
"""
WHOLE_TEXT_X = """    folder.mkdir(parents=True, exist_ok=True)
    text = "".join(f"{k}={float(v)!r}\\n" for k, v in metrics.items())
    with open(path, "x") as file:
        file.write(text)
    return path
"""

MISTAKES = {
    "straight to the file": (
        [(REST, STRAIGHT)],
        "when a value could not be written, write_result left",
    ),
    "whole text at once, after a look": (
        [(REST, WHOLE_TEXT)],
        "looked whether the name was free, then took it in a second step",
    ),
    "whole text at once, with mode x": (
        [(REST, WHOLE_TEXT_X)],
        "when the disk filled up in the middle of the file",
    ),
    "temporary file never cleaned": (
        [("        except BaseException:\n            with contextlib.suppress(OSError):\n"
          "                tmp.close()  # on a full disk closing fails too: "
          "it flushes what is left\n"
          "            os.unlink(tmp.name)  # a crash mid-write leaves nothing\n"
          "            raise\n",
          "        finally:\n            pass\n")],
        "write_result left [",
    ),
    "clean-up stopped by a close that fails": (
        [("            with contextlib.suppress(OSError):\n"
          "                tmp.close()  # on a full disk closing fails too: "
          "it flushes what is left\n",
          "            tmp.close()\n")],
        "bytes, the disk full after 100), write_result left [",
    ),
    "flushed only at close": (
        [("            tmp.flush()  # inside the try: a full disk shows here, not at close\n", "")],
        "when the disk filled up in the middle of the file",
    ),
    "os.replace": (
        [("        os.link(tmp.name, path)  # one step, and it fails if the name is taken\n"
          "    finally:\n        os.unlink(tmp.name)\n",
          "        os.replace(tmp.name, path)\n    except BaseException:\n"
          "        os.unlink(tmp.name)\n        raise\n")],
        "replaced a result file that already existed",
    ),
    "a look, then os.rename": (
        [("        os.link(tmp.name, path)  # one step, and it fails if the name is taken\n"
          "    finally:\n        os.unlink(tmp.name)\n",
          "        if path.exists():\n            raise FileExistsError(path)\n"
          "        os.rename(tmp.name, path)\n    except BaseException:\n"
          "        os.unlink(tmp.name)\n        raise\n")],
        "looked whether the name was free, then took it in a second step",
    ),
    "a look with os.path.exists, then shutil.move": (
        [("        os.link(tmp.name, path)  # one step, and it fails if the name is taken\n"
          "    finally:\n        os.unlink(tmp.name)\n",
          "        if os.path.exists(path):\n            raise FileExistsError(path)\n"
          "        __import__('shutil').move(tmp.name, path)\n    except BaseException:\n"
          "        os.unlink(tmp.name)\n        raise\n")],
        "looked whether the name was free, then took it in a second step",
    ),
    "errors swallowed": (
        [("    try:\n        os.link(", "    try:\n        try:\n            os.link("),
         ("    finally:\n        os.unlink(tmp.name)\n",
          "        except OSError:\n            pass\n"
          "    finally:\n        os.unlink(tmp.name)\n")],
        "although its file name was taken",
    ),
    "another error than FileExistsError": (
        [("        os.link(tmp.name, path)  # one step, and it fails if the name is taken\n",
          "        try:\n            os.link(tmp.name, path)\n"
          "        except FileExistsError:\n            raise RuntimeError('taken') from None\n")],
        "refused a taken name with RuntimeError",
    ),
    "a suffix for a taken name": (
        [("        os.link(tmp.name, path)  # one step, and it fails if the name is taken\n",
          "        try:\n            os.link(tmp.name, path)\n        except FileExistsError:\n"
          "            path = path.with_name(path.stem + '-2.txt')\n"
          "            os.link(tmp.name, path)\n")],
        "although its file name was taken",
    ),
    "rounded": (
        [(VALUE, 'tmp.write(f"{name}={value:.4f}\\n")')],
        "was written as",
    ),
    "six digits": (
        [(VALUE, 'tmp.write(f"{name}={value:g}\\n")')],
        "was written as",
    ),
    "falsy values skipped": (
        [(VALUE, 'tmp.write(f"{name}={float(value)!r}\\n") if value else None')],
        "the file has no line for 'train_loss'",
    ),
    "falsy parameters skipped": (
        [('(f"{k}={v}" for k, v in params.items())',
          '(f"{k}={v}" for k, v in params.items() if v)')],
        "does not follow the pattern",
    ),
    "parameters sorted": (
        [("params.items()", "sorted(params.items())")],
        "does not follow the pattern",
    ),
    "parameters typed by hand": (
        [('(f"{k}={v}" for k, v in params.items())',
          '(f"{k}={params.get(k)}" for k in ("model", "optimizer", "lr", "seed"))')],
        "does not follow the pattern",
    ),
    "another time format": (
        [('strftime("%Y%m%d-%H%M%S")', 'strftime("%Y-%m-%d_%H%M%S")')],
        "does not follow the pattern",
    ),
    "temporary file in the system's folder": (
        [('dir=folder, suffix=".tmp"', 'suffix=".tmp"')],
        "made its temporary file in the system's temporary folder",
    ),
    "no parents": (
        [("folder.mkdir(parents=True, exist_ok=True)", "folder.mkdir(exist_ok=True)")],
        "raised FileNotFoundError",
    ),
    "no exist_ok": (
        [("folder.mkdir(parents=True, exist_ok=True)", "folder.mkdir(parents=True)")],
        "raised FileExistsError",
    ),
    "the temporary name returned": (
        [("    return path\n", "    return tmp.name\n")],
        "should return the path of the file it wrote",
    ),
    "the interruption swallowed after the clean-up": (
        [("  # a crash mid-write leaves nothing\n            raise\n",
          "  # a crash mid-write leaves nothing\n")],
        "not the error that interrupted it",
    ),
    "a folder given as text": (
        [("    folder = Path(folder)\n", "")],
        "raised AttributeError",
    ),
    "the temporary name left": (
        [("    finally:\n        os.unlink(tmp.name)\n", "    finally:\n        pass\n")],
        "but only the result file should be left in it",
    ),
}  # fmt: skip


@pytest.mark.parametrize("mistake", MISTAKES)
def test_a_writer_that_is_not_safe_fails(evaluate, mistake):
    changes, message = MISTAKES[mistake]
    for _ in range(2):  # the check draws its runs: the mistake must show every time
        passed, said = evaluate("1.1", writer(*changes))
        assert not passed and message in said, said


def test_the_check_puts_back_what_it_changes(evaluate):
    import os.path
    import pathlib
    import tempfile

    before = (os.path.exists, os.path.isfile, pathlib.Path.exists, tempfile.tempdir)
    evaluate("1.1", writer(*MISTAKES["a look, then os.rename"][0]))
    evaluate("1.1", writer())
    assert (os.path.exists, os.path.isfile, pathlib.Path.exists, tempfile.tempdir) == before


def test_the_course_writer_is_refused(evaluate):
    from reproml.tracking.txt import write_result_file

    def delegates(folder, params, metrics):
        return write_result_file(folder, params, metrics)

    passed, said = evaluate("1.1", delegates)
    assert not passed and "write_result_file" in said, said
