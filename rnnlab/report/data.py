"""What the report says about a run's data: the facts kept with the run, and what its file shows
when it can still be read (rows, split, dates, the cleaning report, the data chart)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from rnnlab import figures
from rnnlab.config import TRANSFORM_LABELS, RunConfig
from rnnlab.report.charts import Chart
from rnnlab.report.html import num
from rnnlab.report.words import source_words
from rnnlab.store import RunRecord


@dataclass
class DataFacts:
    """What the report says about the data; `error` when the file could not be read now."""

    rows: list[tuple[str, str]] = field(default_factory=list)
    cleaning: list[tuple[str, str]] = field(default_factory=list)   # (kind, message)
    chart: Chart | None = None
    error: str | None = None


def data_facts(run: RunRecord) -> DataFacts:
    """The data as the run saw it: read again from its file when that is still there."""
    facts = DataFacts()
    cfg = run.config.get("data") or {}
    result = run.result
    source = cfg.get("source") or result.data_source
    facts.rows.append(("Data", source_words(source)))
    if cfg.get("test_source"):
        facts.rows.append(("Test data", source_words(cfg["test_source"])))
    target = result.target or cfg.get("target")
    if target:
        facts.rows.append(("Forecast", str(target)))
    if cfg.get("features"):
        facts.rows.append(("Other inputs", ", ".join(map(str, cfg["features"]))))
    transform = result.transform or cfg.get("transform")
    if transform:
        facts.rows.append(("What the network learns", TRANSFORM_LABELS.get(transform, transform)))
    season = result.season if result.has("season") else cfg.get("season")
    facts.rows.append(("Season", f"{season} rows" if season else "none given"))
    trange = result.train_range
    if isinstance(trange, dict) and trange.get("min") is not None:
        facts.rows.append(("Range of the training values",
                           f"{num(trange['min'])} to {num(trange.get('max'))}"))
    if run.data_sha256:
        facts.rows.append(("Data fingerprint (SHA-256)", run.data_sha256))
    try:
        _read_data(run, facts)
    except Exception as exc:     # the file moved, changed or cannot be read: say so, go on
        detail = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        facts.error = (f"The data file could not be read again for this report ({detail}), so "
                       "its rows, split and cleaning report are not shown.")
    return facts


def _read_data(run: RunRecord, facts: DataFacts) -> None:
    from rnnlab import data

    cfg = RunConfig.from_dict(run.config)
    prepared = data.prepare(cfg.data, cfg.model.lookback, cfg.model.horizon)
    if run.data_sha256 and prepared.data_sha256 != run.data_sha256:
        facts.error = ("The data file has changed since this run trained (its fingerprint "
                       "differs): the rows and cleaning report below describe the file as it "
                       "is now.")
    loaded = prepared.loaded
    index = prepared.index
    total = prepared.n_train + prepared.n_val + prepared.n_test
    facts.rows.append(("Rows", f"{total:,} ({_split_words(prepared)})"))
    if isinstance(index, pd.DatetimeIndex) and len(index):
        span = f"{index[0].date()} to {index[-1].date()}"
        facts.rows.append(("Dates", f"{span}; date column {loaded.date_column}"))
    if loaded.dropped_columns:
        facts.rows.append(("Columns left out", "; ".join(
            f"{name}: {why}" for name, why in loaded.dropped_columns.items())))
    facts.cleaning = [(f.kind, f.message) for f in loaded.report.findings]
    if prepared.test_loaded is not None:
        facts.cleaning += [(f.kind, f"Test file: {f.message}")
                           for f in prepared.test_loaded.report.findings]
    frame = pd.DataFrame(prepared.values, index=index, columns=prepared.inputs)
    facts.chart = Chart("data", figures.series_figure(
        frame, prepared.target, (prepared.n_train, prepared.n_val, prepared.n_test)),
        "The data over time, shaded by the part each row belongs to; other input columns are "
        "in the legend.")


def _split_words(prepared) -> str:
    parts = [f"{prepared.n_train:,} to train", f"{prepared.n_val:,} to validate",
             f"{prepared.n_test:,} to test"]
    return ", ".join(parts) + ", in time order"
