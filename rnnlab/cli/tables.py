"""Plain-text tables and the numbers, durations and progress in them."""

from __future__ import annotations

from typing import Any

from rnnlab.store import RunRecord, format_duration


def table(rows: list[list[Any]], align: str = "") -> str:
    """Columns two spaces apart; `align` has one l/r per column (default: first left, rest right)."""
    text = [[("" if c is None else str(c)) for c in row] for row in rows]
    n = len(text[0])
    align = align or "l" + "r" * (n - 1)
    widths = [max(len(r[i]) for r in text) for i in range(n)]
    lines = ["  ".join(c.ljust(w) if a == "l" else c.rjust(w)
                       for c, w, a in zip(row, widths, align)).rstrip() for row in text]
    return "\n".join(lines)


def indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


def num(value: float | None, digits: int = 4) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}g}" if abs(value) < 1e5 else f"{value:,.0f}"


def signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+.2f}"


def duration(seconds: float | None) -> str:
    """42 s, 3 min 05 s, 1 h 02 min; '-' when unknown."""
    return format_duration(seconds, missing="-")


def progress_text(run: RunRecord) -> str:
    return f"{run.epochs_done}/{run.epochs_total}"


def model_test_score(run: RunRecord, key: str) -> float | None:
    return run.result.metric("test", "model", key)
