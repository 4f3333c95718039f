"""Text for the pages: user text made inert for Markdown, names of sources, numbers, sentences and
tables in words; a user's mistake shown as a message."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import streamlit as st

from rnnlab import samples
from rnnlab.errors import RnnlabError
from rnnlab.evaluate import format_number
from rnnlab.scores import METRIC_COLUMNS, metrics_rows
from rnnlab.store import format_duration
from rnnlab.summary import RunSummary, run_summary

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#+\-!|~$:&])")


def md(text: object) -> str:
    """User text (file, column and run names, messages quoting them) made inert for Markdown:
    every character Markdown, HTML or Streamlit's :directives: would act on is escaped, so a
    column named `**x**` or `<img onerror=...>` is shown exactly as written."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def source_label(source: str | None) -> str:
    """A short name for a data source: the sample's title or the uploaded file's name."""
    if not source:
        return "none"
    sample = samples.SAMPLES.get(source)
    if sample is not None:
        return sample.title
    return Path(source).name


def fmt_seconds(seconds: float | None) -> str:
    """Seconds as '42 s', '3 min 05 s', '1 h 02 min'; '—' when unknown."""
    return format_duration(seconds)


fmt_number = format_number   # a metric for a table: significant digits, '—' when missing


def skill_sentence(summary: dict | RunSummary) -> str | None:
    """The model's error compared with the naive forecast, in words."""
    summary = run_summary(summary)
    if summary.sentence:
        return summary.sentence
    model, naive = summary.test_rmse("model"), summary.test_rmse("naive")
    if model is None or not naive:
        return None
    ratio = model / naive
    verdict = "worse than" if ratio > 1 else "better than"
    return (f"The model's error is {ratio:.2g}× the naive forecast's: "
            f"it does {verdict} repeating the last value.")


def metrics_table(split_metrics: dict) -> pd.DataFrame:
    """Model vs baselines: one row per predictor, RMSE/MAE/MAPE/R² and skill vs naive."""
    return pd.DataFrame([{"predictor": row["predictor"],
                          **{label: row[k] for k, label in METRIC_COLUMNS.items()},
                          "skill vs naive": row["skill"]} for row in metrics_rows(split_metrics)])


def guarded(fn: Callable[[], Any], what: str) -> Any:
    """Call fn; a user mistake (RnnlabError) becomes st.error with its advice; the page stops."""
    try:
        return fn()
    except RnnlabError as exc:
        st.error(f"{what}: {md(exc)}", icon=":material/block:")
        st.stop()
