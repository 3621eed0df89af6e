"""What a student reads in a notebook, cut into the units a translator works with.

Each block of a markdown cell (a paragraph, a heading, a list, a table: what blank lines
separate; fenced code is left as it is), each comment of a code cell (Python's, a shell
command's, or a YAML file's in a ``%%writefile`` cell), and the instruction of each
``### BEGIN SOLUTION`` marker (the student's stub shows it). Code, commands, configuration keys
and outputs stay as they are. ``cell_units`` finds each unit's place in a cell's source;
``translated_source`` puts a translation in each place and leaves every other character as it
was, so a notebook translated with its own English is the notebook itself.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Callable
from dataclasses import dataclass

from nbformat import NotebookNode

BEGIN_MARKER = re.compile(r"###\s*BEGIN SOLUTION\s*:?\s*")
# Comments that are instructions to a tool, not to a reader.
TOOL_COMMENT = re.compile(r"(noqa|type:|fmt:|pragma|END SOLUTION|!|@package)")
FENCE = re.compile(r"\s*(```|~~~)")
YAML_FILE = re.compile(r"%%writefile\s+\S+\.ya?ml\s*$")
SHELL_MAGIC = re.compile(r"%%(bash|sh|script)\b")


@dataclass(frozen=True)
class Unit:
    start: int  # the unit's text is source[start:end]
    end: int
    text: str


def cell_units(cell: NotebookNode) -> list[Unit]:
    """The translatable units of a cell, in the order they appear."""
    source = cell.source
    if cell.cell_type == "markdown":
        return _markdown_units(source)
    if cell.cell_type != "code":
        return []
    first_line = source.split("\n", 1)[0]
    if YAML_FILE.match(first_line) or SHELL_MAGIC.match(first_line):
        return _line_comment_units(source, skip_first=True)
    return _python_comment_units(source)


def translated_source(cell: NotebookNode, translate: Callable[[str], str]) -> str:
    """The cell's source with each unit replaced by ``translate(unit.text)``."""
    source = cell.source
    for unit in reversed(cell_units(cell)):
        source = source[: unit.start] + translate(unit.text) + source[unit.end :]
    return source


def _readable(text: str) -> bool:
    return any(character.isalpha() for character in text)


def _markdown_units(source: str) -> list[Unit]:
    units: list[Unit] = []
    block_start: int | None = None
    block_end = 0
    fenced = False
    offset = 0
    for line in source.splitlines(keepends=True):
        content = line.rstrip("\n")
        if FENCE.match(content):
            fenced = not fenced
            units += _block(source, block_start, block_end)
            block_start = None
        elif fenced:
            pass
        elif content.strip():
            if block_start is None:
                block_start = offset
            block_end = offset + len(content)
        else:
            units += _block(source, block_start, block_end)
            block_start = None
        offset += len(line)
    units += _block(source, block_start, block_end)
    return units


def _block(source: str, start: int | None, end: int) -> list[Unit]:
    if start is None:
        return []
    text = source[start:end]
    if not _readable(text) or re.fullmatch(r"\s*<!--.*-->\s*", text, re.S):
        return []
    return [Unit(start, end, text)]


def _comment_unit(comment: str, at: int) -> Unit | None:
    """The readable part of a comment token ``comment`` that starts at offset ``at``."""
    marker = BEGIN_MARKER.match(comment)
    if marker:
        skip = marker.end()
    else:
        body = comment.lstrip("#")
        if TOOL_COMMENT.match(body.strip()):
            return None
        skip = len(comment) - len(body.lstrip())
    text = comment[skip:].rstrip()
    if not _readable(text):
        return None
    return Unit(at + skip, at + skip + len(text), text)


def _python_comment_units(source: str) -> list[Unit]:
    # IPython's magics and shell lines are not Python: blanked (same length) for the tokenizer.
    lines = source.splitlines(keepends=True)
    python = "".join(
        " " * len(line.rstrip("\n")) + line[len(line.rstrip("\n")) :]
        if line.lstrip().startswith(("%", "!"))
        else line
        for line in lines
    )
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    units = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(python).readline):
            if token.type == tokenize.COMMENT:
                row, column = token.start
                unit = _comment_unit(token.string, starts[row - 1] + column)
                if unit is not None:
                    units.append(unit)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return _line_comment_units(source, skip_first=False)
    return units


def _line_comment_units(source: str, skip_first: bool) -> list[Unit]:
    """Comments of YAML or shell lines: from the first ``#`` that starts a word, outside
    quotes, to the end of the line."""
    units = []
    offset = 0
    for number, line in enumerate(source.splitlines(keepends=True)):
        if not (skip_first and number == 0):
            at = _comment_start(line.rstrip("\n"))
            if at is not None:
                unit = _comment_unit(line.rstrip("\n")[at:], offset + at)
                if unit is not None:
                    units.append(unit)
        offset += len(line)
    return units


def _comment_start(line: str) -> int | None:
    quote = None
    for index, character in enumerate(line):
        if quote:
            quote = None if character == quote else quote
        elif character in "'\"":
            quote = character
        elif character == "#" and (index == 0 or line[index - 1].isspace()):
            return index
    return None
