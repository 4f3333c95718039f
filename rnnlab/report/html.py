"""The small pieces of HTML the report is made of: escaped text, numbers, sections, tables of
facts and the places where the charts are drawn."""

from __future__ import annotations

import html
from typing import Any

from rnnlab.evaluate import format_number
from rnnlab.report.charts import Chart

CHART_CLASS = "rnnlab-chart"


def section(title: str, inner: str) -> str:
    slug = title.lower().split()[0]
    return f'<section id="{slug}">\n<h2>{esc(title)}</h2>\n{inner}\n</section>'


def charts_html(charts: dict[str, Chart], keys, missing: str) -> str:
    shown = [charts[k] for k in keys if k in charts]
    if not shown:
        return f'<p class="note">{esc(missing)}</p>'
    return "\n".join(chart_div(c) for c in shown)


def chart_div(chart: Chart) -> str:
    caption = f'<p class="note">{esc(chart.caption)}</p>' if chart.caption else ""
    return (f'<div class="chart"><div class="{CHART_CLASS}" id="chart-{esc(chart.key)}" '
            f'data-key="{esc(chart.key)}"></div>{caption}</div>')


def kv_table(rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    return f'<table class="facts">{body}</table>'


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def num(value: Any, digits: int = 4) -> str:
    return esc(format_number(value, digits, thousands=True))


def raw(value: Any) -> str:
    """A number in full (repr) for the data-value attribute, '' when missing."""
    if value is None:
        return ""
    try:
        return repr(float(value))
    except (TypeError, ValueError):
        return esc(value)
