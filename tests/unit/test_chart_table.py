"""Every chart has one home and is used: a builder added to rnnlab/figures in one place only
(not exported, drawn by no page or report, or with no test) fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from rnnlab import figures

ROOT = Path(__file__).resolve().parents[2]
CHART = re.compile(r"_(figure|heatmap|diagram)$")


def builders() -> dict[str, str]:
    """Top-level chart builders defined in the figures package: name -> module file."""
    out = {}
    for path in sorted((ROOT / "rnnlab" / "figures").glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and CHART.search(node.name) \
                    and not node.name.startswith("_"):
                out[node.name] = path.name
    return out


def _text(paths) -> str:
    return "\n".join(p.read_text() for p in paths)


def test_every_chart_builder_is_exported_once():
    found = builders()
    assert len(found) >= 15
    exported = {name for name in figures.__all__ if CHART.search(name)}
    assert set(found) == exported
    for name in found:
        assert callable(getattr(figures, name))


def test_every_chart_is_drawn_somewhere_and_tested():
    users = _text([*ROOT.glob("views/*.py"), *(p for p in ROOT.glob("rnnlab/**/*.py")
                                              if "figures" not in p.parts)])
    tests = _text(ROOT.glob("tests/**/test_*.py"))
    for name in builders():
        assert re.search(rf"\b{name}\(", users), f"{name} is drawn by no page or report"
        assert re.search(rf"\b{name}\(", tests), f"{name} has no test that builds it"
