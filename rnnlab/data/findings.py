"""What the loader found and changed, and the wording its messages share.

`CleaningReport` collects `Finding`s in the order they happened: "info" for what was noticed,
"warning" for what may need a look, "action" for what changed the data. The helpers below word
counts ('1,234 rows'), lists ('a, b, … (12 in all)'), long text and samples of cells
("'n/a' ×7, empty ×2") the same way in every message of `rnnlab.data`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class Finding:
    """One thing the loader noticed: "info", "warning" or "action" (it changed the data)."""

    kind: str
    message: str


@dataclass
class CleaningReport:
    """What the loader found and changed, in plain words, in the order it happened."""

    findings: list[Finding] = field(default_factory=list)

    def add(self, kind: str, message: str) -> None:
        """Append a finding."""
        self.findings.append(Finding(kind, message))

    def lines(self) -> list[str]:
        """The messages, one per finding."""
        return [f.message for f in self.findings]

    def __str__(self) -> str:
        return "\n".join(f"- {line}" for line in self.lines())


def _count(n: int, word: str, plural: str | None = None) -> str:
    """'1 day', '2 days', '1,234 entries'."""
    return f"{n:,} {word if n == 1 else plural or word + 's'}"


def _preview(items, limit: int = 6) -> str:
    """'a, b, c' or 'a, b, c, … (12 in all)'."""
    items = [str(x) for x in items]
    text = ", ".join(items[:limit])
    return text if len(items) <= limit else f"{text}, … ({len(items)} in all)"


def _shorten(text: str, limit: int = 40) -> str:
    """The text, cut to `limit` characters with an ellipsis (report lines stay readable)."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _shape(table: pd.DataFrame) -> str:
    """'1,258 rows × 6 columns'."""
    return f"{_count(len(table), 'row')} × {_count(len(table.columns), 'column')}"


def _token_counts(tokens: pd.Series, limit: int = 4) -> str:
    """"'n/a' ×7, '-' ×3, empty ×2"."""
    labels = tokens.fillna("").map(lambda t: "empty" if t == "" else repr(_shorten(t)))
    counts = labels.value_counts()
    parts = [f"{label} ×{n:,}" for label, n in counts.head(limit).items()]
    if len(counts) > limit:
        parts.append(f"{len(counts) - limit} other kinds")
    return ", ".join(parts)
