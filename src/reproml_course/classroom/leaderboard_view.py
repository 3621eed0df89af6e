"""How the leaderboard looks: a table for the terminal and the notebook, bars for the figure."""

from __future__ import annotations

import math
import unicodedata

from reproml_course.classroom.records import Verdict


def printable(text: str) -> str:
    """``text`` with every control or format character written as an escape (``\\x1b``).

    Run names are a student's text: an ANSI sequence in one would erase or recolour the rows
    of the instructor's terminal, a right-to-left override would reorder them."""
    return "".join(
        char
        if not unicodedata.category(char).startswith("C")
        else char.encode("unicode_escape").decode("ascii")
        for char in str(text)
    )


def format_leaderboard(rows: list[Verdict]) -> str:
    """One row per team: its latest tested submission, and how many it made."""
    if not rows:
        return "No submission tested yet."
    header = f"{'#':>3}  {'team':<14} {'run':<22} {'subs':>4} {'test acc':>8}  note"
    lines = [header, "-" * len(header)]
    rank = 0
    for v in rows:
        rank += v.ranked
        tested = "-" if math.isnan(v.verified) else f"{v.verified:.4f}"
        position = str(rank) if v.ranked else "-"
        note = v.note if v.ranked else f"FLAGGED: {v.problem}"
        team, run = printable(v.team)[:14], printable(v.run_name)[:22]
        lines.append(
            f"{position:>3}  {team:<14} {run:<22} {v.submissions:>4} {tested:>8}  "
            f"{printable(note)}".rstrip()
        )
    return "\n".join(lines)


def plot_leaderboard(verdicts: list[Verdict], top: int = 10):
    """The best teams' entries as bars, best on top."""
    from matplotlib.figure import Figure

    shown = [v for v in verdicts if v.ranked][:top][::-1]
    figure = Figure(figsize=(7, 0.4 * len(shown) + 1.2), layout="constrained")
    ax = figure.subplots()
    labels = [printable(f"{v.team} · {v.run_name} ({v.submissions} sub.)") for v in shown]
    bars = ax.barh(labels, [v.verified for v in shown])
    ax.bar_label(bars, fmt="%.4f", padding=3)
    low = min((v.verified for v in shown), default=0.0)
    ax.set(
        xlabel="test accuracy of the latest submission, on the instructor's whole test set",
        xlim=(max(0.0, low - 0.05), 1.0),
        title=f"Leaderboard: the {len(shown)} best teams",
    )
    return figure
