"""Data: a sample or an upload; what was cleaned; columns, gaps, split and scaling."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from rnnlab import config as cfgmod
from rnnlab import data as data_mod
from rnnlab import figures, samples, ui
from rnnlab.errors import StoreError

MAX_MB = data_mod.MAX_UPLOAD_MB
MAX_PLOT_COLUMNS = 12      # lines in the data chart; a wide file gets a picker
MAX_PREVIEW_COLUMNS = 50   # columns in the preview table
UPLOAD_TYPES = ["csv", "tsv", "txt", "xlsx", "xls", "parquet"]
FILL_LABELS = {"interpolate": "Draw a straight line across the gap",
               "ffill": "Repeat the last known value", "drop": "Drop rows with gaps"}
SCALING_LABELS = {"minmax": "Min–max to 0…1", "standard": "Standardise (mean 0, sd 1)",
                  "none": "No scaling"}
CATEGORICAL_LABELS = {"exclude": "Leave them out", "onehot": "One 0/1 column per label"}
# " (frequency W-SAT)" in the report: pandas' code for what the sentence already says in words
# ("One row per week"); the Frequency figure above gives it in words, the code in its help
FREQUENCY_NOTE = re.compile(r" \(frequency [^)\s]+\)")


def source_ui() -> str:
    """Sample or upload; returns the source to use (a sample name or a saved file's path)."""
    current = ui.get_value("data", "source")
    is_sample = current in samples.SAMPLES
    ui.seed("data_kind", "A sample" if is_sample else "My own file")
    kind = st.radio("Where is your data?", ["A sample", "My own file"], key="data_kind",
                    horizontal=True,
                    help="Samples are real, small series that ship with RNN Lab. Your own file "
                         f"can be CSV, TSV, Excel or Parquet, up to {MAX_MB} MB.")
    if kind == "A sample":
        return sample_ui(current if is_sample else None)
    return upload_ui(None if is_sample else current)


def sample_ui(current: str | None) -> str:
    """A radio of the samples, each with its one-line description."""
    names = list(samples.SAMPLES)
    ui.seed("data_sample", current or names[0])
    name = st.radio("Sample", names,
                    **ui.on_value("data_sample", lambda n: use_source(n, samples.SAMPLES[n])),
                    format_func=lambda n: samples.SAMPLES[n].title,
                    captions=[samples.SAMPLES[n].description for n in names],
                    help="Pick one to explore; you can come back and change it at any time.")
    if name != ui.get_value("data", "source"):
        use_source(name, samples.SAMPLES[name])
    return name


def upload_ui(current: str | None) -> str:
    """A file uploader; a bad file shows the engine's message and stops the page."""
    upload = st.file_uploader(
        f"Upload a table of your series (CSV, TSV, Excel or Parquet, up to {MAX_MB} MB)",
        type=UPLOAD_TYPES, key="data_upload",
        help="One row per time step, one column per measurement, ideally a date column. "
             "We detect the date, the separator and the number format, and tell you what we "
             "cleaned.")
    if upload is not None:
        return accept_upload(upload)
    if current:
        st.caption(f"Using your file **{ui.md(ui.source_label(current))}**. Upload another to replace it.")
        return current
    st.info("Upload a file to continue, or switch to a sample above.", icon=":material/upload:")
    st.stop()


def accept_upload(upload) -> str:
    """Check an uploaded file with the engine once, keep it, and make it the active source."""
    raw = upload.getvalue()
    seen = st.session_state.get("_upload_seen", {})
    if upload.file_id not in seen:
        try:
            seen[upload.file_id] = check_upload(raw, upload.name)
        except StoreError as exc:          # the server's fault, not the file's: tried again later
            st.error(ui.md(str(exc)), icon=":material/error:")
            st.stop()
        st.session_state["_upload_seen"] = seen
    ok, result = seen[upload.file_id]
    if not ok:
        active = ui.source_label(ui.get_value("data", "source"))
        st.error(f"**{ui.md(upload.name)}** cannot be used: {ui.md(result)}  \nThe active dataset is still "
                 f"**{ui.md(active)}**.", icon=":material/block:")
        st.stop()
    if result != ui.get_value("data", "source"):
        use_source(result, None)
    return result


def check_upload(raw: bytes, filename: str) -> tuple[bool, str]:
    """(True, saved path) for a file the engine can read, else (False, the engine's message)."""
    try:
        data_mod.load(raw, filename=filename)
    except ui.RnnlabError as exc:
        return False, str(exc)
    return True, str(ui.save_upload(raw, filename))   # StoreError (a full disk): not kept


def use_source(source: str, sample) -> None:
    """Make a new source active: reset the column choices to the file's defaults."""
    data = ui.config_dict()["data"]
    defaults = cfgmod.DataConfig()
    test_file = getattr(sample, "test_file", None)
    data.update(source=source, target=getattr(sample, "target", None),
                date_column=getattr(sample, "date_column", None), features=[],
                test_source=test_file, season=getattr(sample, "season", None),
                val_fraction=0.0 if test_file else defaults.val_fraction,  # as the tutorial
                test_fraction=defaults.test_fraction)
    for key in ("data_date", "data_target", "data_features", "data_season", "data_val",
                "data_test", "data_use_test_file", "data_categorical", "data_plot_columns"):
        st.session_state.pop(key, None)


load = ui.load_data   # data.load, cached per source and options (shared with the advice)


def load_ui(source: str):
    """Load the active source with the chosen date column, gap filling and categorical handling."""
    data = ui.config_dict()["data"]
    path = str(samples.resolve_source(source)) if source in samples.SAMPLES else source
    fill, categorical = data.get("fill", "interpolate"), data.get("categorical", "exclude")
    try:
        return load(path, data.get("date_column"), fill, categorical)
    except ui.RnnlabError as exc:
        st.error(f"This data cannot be used as it is: {ui.md(exc)}", icon=":material/block:")
        if not data.get("date_column"):
            st.stop()
    st.info("Showing the file with its date column detected automatically instead; pick "
            "another date column below.", icon=":material/undo:")
    try:
        return load(path, None, fill, categorical)
    except ui.RnnlabError:
        st.stop()


def facts_ui(loaded) -> None:
    """Rows, span, frequency, missing values."""
    frame = loaded.frame
    st.markdown(ui.NARROW_METRICS_CSS, unsafe_allow_html=True)   # static CSS, no user text
    cols = st.columns([0.7, 2.4, 1.9, 0.9])  # room for a span of dates and "weekly (Saturdays)"
    cols[0].metric("Rows", f"{len(frame):,}", help="Time steps after cleaning.")
    cols[1].metric("Span", span_text(frame.index), help="First and last time step.")
    freq = loaded.frequency
    cols[2].metric("Frequency", frequency_words(freq),
                   help="How often a new value arrives, as detected from the dates"
                        + (f" (pandas calls it “{freq}”)." if freq else "."))
    cols[3].metric("Missing values", missing_count(loaded),
                   help="Empty or unreadable cells found in the numeric columns; they are "
                        "filled as chosen under “Gaps”.")


_DAYS = {"MON": "Mondays", "TUE": "Tuesdays", "WED": "Wednesdays", "THU": "Thursdays",
         "FRI": "Fridays", "SAT": "Saturdays", "SUN": "Sundays"}
_MONTHS = {"JAN": "January", "FEB": "February", "MAR": "March", "APR": "April", "MAY": "May",
           "JUN": "June", "JUL": "July", "AUG": "August", "SEP": "September", "OCT": "October",
           "NOV": "November", "DEC": "December"}
# pandas offset alias -> (one step, n steps, what an -END suffix means)
_FREQ_UNITS = {
    "D": ("daily", "every {n} days"), "B": ("weekdays (business days)", "every {n} weekdays"),
    "W": ("weekly", "every {n} weeks"), "MS": ("monthly", "every {n} months"),
    "ME": ("monthly (month ends)", "every {n} months (month ends)"),
    "M": ("monthly (month ends)", "every {n} months (month ends)"),
    "QS": ("quarterly", "every {n} quarters"), "QE": ("quarterly (quarter ends)",
                                                     "every {n} quarters (quarter ends)"),
    "Q": ("quarterly (quarter ends)", "every {n} quarters (quarter ends)"),
    "YS": ("yearly", "every {n} years"), "AS": ("yearly", "every {n} years"),
    "YE": ("yearly (year ends)", "every {n} years (year ends)"),
    "Y": ("yearly (year ends)", "every {n} years (year ends)"),
    "A": ("yearly (year ends)", "every {n} years (year ends)"),
    "h": ("hourly", "every {n} hours"), "H": ("hourly", "every {n} hours"),
    "min": ("every minute", "every {n} minutes"), "T": ("every minute", "every {n} minutes"),
    "s": ("every second", "every {n} seconds"), "S": ("every second", "every {n} seconds"),
    "ms": ("every millisecond", "every {n} milliseconds"),
}


def frequency_words(alias: str | None) -> str:
    """A pandas frequency in words: 'W-SAT' -> 'weekly (Saturdays)', 'QS' -> 'quarterly',
    'h' -> 'hourly', '15min' -> 'every 15 minutes', 'QS-OCT' -> 'quarterly (from October)';
    None -> 'irregular / none'; an alias it does not know is returned as it is."""
    if not alias:
        return "irregular / none"
    found = re.fullmatch(r"(\d*)([A-Za-z]+)(?:-([A-Z]{3}))?", str(alias))
    if not found or found.group(2) not in _FREQ_UNITS:
        return str(alias)
    count, unit, anchor = found.groups()
    one, many = _FREQ_UNITS[unit]
    n = int(count) if count else 1
    words = one if n == 1 else many.format(n=n)
    if anchor in _DAYS:
        words += f" ({_DAYS[anchor]})"
    elif anchor in _MONTHS and anchor not in ("JAN", "DEC"):
        words += f" (from {_MONTHS[anchor]})"
    return words


def span_text(index: pd.Index) -> str:
    """'2020-01-01 → 2022-09-26' for dates, 'rows 0 → 999' otherwise."""
    if len(index) == 0:
        return "—"
    if isinstance(index, pd.DatetimeIndex):
        return f"{index[0]:%Y-%m-%d} → {index[-1]:%Y-%m-%d}"
    return f"rows {index[0]} → {index[-1]}"


def missing_count(loaded) -> str:
    """Missing values as the cleaning counted them (before filling), over every column."""
    return f"{sum(loaded.missing.values()):,}"


def report_ui(loaded) -> None:
    """The cleaning report, opened when something needs the user's attention."""
    findings = list(getattr(loaded.report, "findings", []))
    urgent = any(f.kind in ("warning", "action") for f in findings)
    icons = {"info": ":material/info:", "warning": ":material/warning:",
             "action": ":material/cleaning_services:"}
    with st.expander(f"What we found and cleaned ({len(findings)} notes)", expanded=urgent):
        if not findings:
            st.write("Nothing to clean: the file was read as it is.")
        for f in findings:
            message = FREQUENCY_NOTE.sub("", f.message)
            st.markdown(f"{icons.get(f.kind, '•')} {ui.md(message)}")


def columns_ui(loaded) -> None:
    """Date column, target, extra inputs; written into the config."""
    data = ui.config_dict()["data"]
    left, right = st.columns(2)
    date_options = [None] + unique([loaded.date_column, data.get("date_column"),
                                    *getattr(loaded, "dropped_columns", {}),
                                    *loaded.categorical_columns, *loaded.numeric_columns])
    ui.seed("data_date", loaded.date_column if loaded.date_column in date_options else None)
    data["date_column"] = left.selectbox(
        "Date column", date_options, **ui.bound("data_date", "data", "date_column"),
        format_func=lambda c: "No date: use the row order" if c is None else c,
        help="The column that says when each row happened. We detect it; change it if we "
             "guessed wrong. Without one, rows are taken in file order.")
    numeric = list(loaded.numeric_columns)
    target = data.get("target") if data.get("target") in numeric else loaded.default_target
    ui.seed("data_target", target)
    data["target"] = left.selectbox(
        "Column to forecast (target)", numeric, **ui.bound("data_target", "data", "target"),
        help="The series the network learns to predict. Only numeric columns can be forecast.")
    others = [c for c in numeric if c != data["target"]]
    if data.get("categorical") == "onehot":
        others += list(loaded.categorical_columns)  # a text column stands for its 0/1 columns
    ui.seed("data_features", [c for c in data.get("features", []) if c in others])
    if any(c not in others for c in st.session_state["data_features"]):
        st.session_state["data_features"] = [c for c in st.session_state["data_features"]
                                             if c in others]
    data["features"] = right.multiselect(
        "Extra input columns", others, **ui.bound("data_features", "data", "features"),
        help="Other columns the network may read to predict the target (e.g. temperature to "
             "predict demand). The target's own past is always an input. Leave empty to use "
             "only the target.")
    if loaded.categorical_columns:
        choice_ui(right, "categorical",
                  f"Text columns ({ui.md(listing(loaded.categorical_columns))})",
                  cfgmod.CATEGORICAL, CATEGORICAL_LABELS, "exclude",
                  "Columns of labels such as 'rain' or 'sun'. Leave them out, or turn each label "
                  "into a 0/1 column the network can read.")


def choice_ui(container, name: str, label: str, options, labels: dict, default: str,
              help: str) -> None:
    """A select box for one data setting (widget key data_NAME): seeded from the config, its
    options shown in words, and written back into the config."""
    data = ui.config_dict()["data"]
    ui.seed(f"data_{name}", data.get(name, default))
    data[name] = container.selectbox(label, list(options),
                                     **ui.bound(f"data_{name}", "data", name),
                                     format_func=labels.get, help=help)


def preparation_ui(loaded) -> None:
    """Gap filling, split, scaling, season; written into the config (only the split in
    classroom mode)."""
    data = ui.config_dict()["data"]
    left, mid, right = st.columns(3)
    if ui.classroom():
        split_ui(left)
        return
    choice_ui(left, "fill", "Gaps", cfgmod.FILLS, FILL_LABELS, "interpolate",
              "What to do where a value is missing: draw a line between its neighbours, repeat "
              "the last known value, or drop those rows.")
    choice_ui(left, "scaling", "Scaling", cfgmod.SCALINGS, SCALING_LABELS, "minmax",
              "Networks learn best on small numbers. Scaling is learned on the training part "
              "only, and predictions are turned back into your units.")
    split_ui(mid)
    season = data.get("season") or 0
    ui.seed("data_season", int(season))
    value = right.number_input(
        "Season length (rows)", min_value=0, max_value=10000, step=1,
        **ui.bound("data_season", "data", "season", lambda v: int(v) if v and v >= 2 else None),
        help="How many rows one cycle lasts (12 for monthly data with a yearly pattern, 7 for a "
             "weekly one). Used for the 'same time last season' baseline. 0 = no season.")
    data["season"] = int(value) if value and value >= 2 else None
    ui.advice_caption(right, "data", "season", "season")
    transform_ui(st.columns([2, 1])[0])


def transform_ui(container) -> None:
    """What the network learns: the values, their changes, or the change from the window's end."""
    data = ui.config_dict()["data"]
    options = [t for t in cfgmod.TRANSFORMS if t != "seasonal_difference" or data.get("season")]
    current = data.get("transform", "none")
    ui.seed("data_transform", current if current in options else "none")
    if st.session_state["data_transform"] not in options:   # the season was just taken away
        st.session_state["data_transform"] = "difference"
    data["transform"] = container.selectbox(
        "What the network learns", options, **ui.bound("data_transform", "data", "transform"),
        format_func=cfgmod.TRANSFORM_LABELS.get,
        help="A network predicting the values themselves cannot go beyond the range it was "
             "trained on, so on a rising series it falls short. Learning the change from one "
             "step to the next (or from one season earlier) avoids that; forecasts are turned "
             "back into your units either way. Log suits positive series that grow by a "
             "percentage.")
    ui.advice_caption(container, "data", "transform", "transform")


def split_ui(container) -> None:
    """Validation and test shares (or the sample's separate test file)."""
    data = ui.config_dict()["data"]
    source = data.get("source")
    test_file = getattr(samples.SAMPLES.get(source), "test_file", None) if source else None
    if test_file:
        ui.seed("data_use_test_file", data.get("test_source") == test_file)
        use = container.checkbox(
            "Test on the separate test file",
            **ui.bound("data_use_test_file", "data", "test_source",
                       lambda use: test_file if use else None),
            help=f"This sample comes with a later period kept apart for testing ({test_file}), "
                 "as in the tutorial. Untick to cut the test part from the end of this file "
                 "instead.")
        data["test_source"] = test_file if use else None
    ui.seed("data_val", int(round(100 * data.get("val_fraction", 0.1))))
    data["val_fraction"] = container.slider(
        "Validation share (%)", 0, 50,
        **ui.bound("data_val", "data", "val_fraction", lambda v: v / 100),
        help="The part after the training rows, used to watch for over-fitting while training. "
             "0 = no validation.") / 100
    if data.get("test_source"):
        container.caption(f"Test: all of {ui.source_label(data['test_source'])}.")
        return
    ui.seed("data_test", max(1, int(round(100 * data.get("test_fraction", 0.1)))))
    data["test_fraction"] = container.slider(
        "Test share (%)", 1, 50,
        **ui.bound("data_test", "data", "test_fraction", lambda v: v / 100),
        help="The last part of the series, never seen in training: the honest exam.") / 100


def part_size(n_rows: int, fraction: float) -> int:
    """Rows of a part as the engine counts them: the share rounded, at least 1 unless 0."""
    return 0 if fraction <= 0 else max(1, int(round(n_rows * fraction)))


def split_counts(n_rows: int, n_test_file: int | None) -> tuple[int, int, int]:
    """Train / val / test row counts for the chosen shares (for the shaded bands)."""
    data = ui.config_dict()["data"]
    n_val = part_size(n_rows, data["val_fraction"])
    if n_test_file:
        return n_rows - n_val, n_val, n_test_file
    n_test = part_size(n_rows, data["test_fraction"])
    return n_rows - n_val - n_test, n_val, n_test


def plot_frame(loaded, columns: list[str] | None = None) -> tuple[pd.DataFrame, tuple[int, int, int]]:
    """The frame to plot (the columns given, else every numeric one; with the separate test file
    appended) and the split counts."""
    data = ui.config_dict()["data"]
    frame = loaded.frame[list(loaded.numeric_columns) if columns is None else columns]
    test_rows, last = None, loaded
    if data.get("test_source"):
        test = load_ui_quiet(data["test_source"])
        if test is not None:
            test_frame = test.frame[[c for c in frame.columns if c in test.frame.columns]]
            frame = pd.concat([frame, test_frame])
            test_rows, last = len(test_frame), test
    target = target_of(loaded)
    future = data_mod.future_rows(last, target)     # the last rows, with no value of the target
    n_rows = len(frame) - (test_rows if test_rows else future)
    if future:                                      # drawn empty, outside every part
        frame = frame.copy()
        if target in frame:
            frame.iloc[len(frame) - future:, frame.columns.get_loc(target)] = float("nan")
        test_rows = test_rows - future if test_rows else None
    return frame, split_counts(n_rows, test_rows)


def target_of(loaded) -> str:
    """The column to forecast: the chosen one, else the loader's default."""
    target = ui.get_value("data", "target")
    return target if target in loaded.numeric_columns else loaded.default_target


def load_ui_quiet(source: str):
    """Load a secondary file (the separate test file); None if it cannot be read."""
    data = ui.config_dict()["data"]
    try:
        path = str(samples.resolve_source(source))
        return load(path, data.get("date_column"), data.get("fill", "interpolate"),
                    data.get("categorical", "exclude"))
    except ui.RnnlabError:
        return None


def plot_columns_ui(loaded) -> list[str]:
    """The numeric columns to draw: all of them, or on a wide file at most MAX_PLOT_COLUMNS,
    the target and the chosen inputs first, with a picker for the others."""
    numeric = list(loaded.numeric_columns)
    data = ui.config_dict()["data"]
    target = target_of(loaded)
    if len(numeric) <= MAX_PLOT_COLUMNS:
        return numeric
    chosen = [c for c in st.session_state.get("data_plot_columns", []) if c in numeric]
    if not chosen:
        chosen = unique([target, *[c for c in data.get("features", []) if c in numeric],
                         *numeric])[:MAX_PLOT_COLUMNS]
    st.session_state["data_plot_columns"] = chosen
    shown = st.multiselect(
        "Columns to plot", numeric, key="data_plot_columns", max_selections=MAX_PLOT_COLUMNS,
        help=f"A chart of more than {MAX_PLOT_COLUMNS} lines is unreadable and slow to draw; "
             "pick the columns to see. The target is always drawn.")
    shown = unique([target, *shown])[:MAX_PLOT_COLUMNS]
    st.caption(f"Showing {len(shown):,} of {len(numeric):,} columns; choose the columns to plot in "
               "“Columns to plot” above.")
    return shown


def plot_ui(loaded) -> list[str]:
    """The series with the target highlighted and train / validation / test shaded; the columns
    drawn."""
    columns = plot_columns_ui(loaded)
    frame, split = plot_frame(loaded, columns)
    target = ui.get_value("data", "target") or loaded.default_target
    fig = figures.series_figure(frame, target, split)
    ui.chart(fig, "data_series_chart")
    future = len(frame) - sum(split)
    inputs = ui.get_value("data", "features") or []
    reads = (f"its forecast beyond the data reads {', '.join(inputs)} there" if inputs else
             "with extra input columns, its forecast beyond the data reads them there")
    ahead = (f"; the last {future:,} rows have no {target}: a run leaves them out, and {reads}"
             if future > 0 else "")
    st.caption(f"Train {split[0]:,} rows · validation {split[1]:,} · test {split[2]:,}{ahead}. "
               "Drag to zoom, double-click to reset; click a legend entry to hide a column.")
    problem = length_problem(split, int(ui.get_value("model", "lookback", 1) or 1),
                             int(ui.get_value("model", "horizon", 1) or 1))
    if problem:
        st.warning(problem, icon=":material/straighten:")
    return columns


def length_problem(split: tuple[int, int, int], lookback: int, horizon: int) -> str | None:
    """Why the series is too short to train with the current lookback and horizon, and what to
    do (the same rule Train applies: every training example is lookback rows followed by
    horizon rows, all inside the training part; validation and test need horizon rows each);
    None when it is long enough."""
    n_train, n_val, n_test = split
    data = ui.config_dict()["data"]
    need = lookback + horizon
    if n_train < need:
        fit = n_train - horizon                      # the largest lookback these rows allow
        if fit >= 1:
            fix = (f"Lower the lookback to {fit} or less on the Model page, make the "
                   "validation and test shares smaller, or use a longer series.")
        else:
            fix = ("Even a lookback of 1 does not fit: use a longer series (a few hundred rows "
                   "or more is typical), or make the validation and test shares smaller.")
        return (f"Too short to train: the training part has {n_train:,} "
                f"row{'s' * (n_train != 1)}, but one example needs lookback {lookback} + "
                f"horizon {horizon} = {need} rows. {fix}")
    if data.get("val_fraction", 0) > 0 and n_val < horizon:
        return (f"Too short to train: the validation part has {n_val:,} rows but horizon "
                f"{horizon} needs {horizon}. Raise the validation share, set it to 0, or lower "
                "the horizon on the Model page.")
    if n_test < horizon:
        return (f"Too short to train: the test part has {n_test:,} rows but horizon {horizon} "
                "needs as many. Raise the test share or lower the horizon on the Model page.")
    return None


def preview_columns(loaded, first: list[str]) -> list[str]:
    """At most MAX_PREVIEW_COLUMNS columns of the cleaned table: `first`, then the others in order."""
    return unique([*first, *loaded.frame.columns])[:MAX_PREVIEW_COLUMNS]


PREVIEW_ROWS = 200


def preview(frame: pd.DataFrame, rows: int = PREVIEW_ROWS) -> pd.DataFrame:
    """The first rows, with dates shown without a time of day when there is none."""
    head = frame.head(rows)
    index = head.index
    if isinstance(index, pd.DatetimeIndex) and (index == index.normalize()).all():
        head = head.set_axis(pd.Index(index.strftime("%Y-%m-%d"), name=index.name))
    return head


def listing(names, limit: int = 8) -> str:
    """'a, b, c' or 'a, b, …, h (12 in all)'."""
    names = [str(n) for n in names]
    text = ", ".join(names[:limit])
    return text if len(names) <= limit else f"{text}, … ({len(names):,} in all)"


def unique(items) -> list:
    """Items in order, without None and repeats."""
    out = []
    for item in items:
        if item is not None and item not in out:
            out.append(item)
    return out


def main() -> None:
    """The Data page."""
    st.title("Data")
    st.caption("Bring a time series. Pick what to forecast and how to split it; the network "
               "only ever learns from the training part.")
    source = source_ui()
    loaded = load_ui(source)
    st.header(f"Your data: {ui.md(ui.source_label(source))}")
    attribution = getattr(samples.SAMPLES.get(source), "attribution", "")
    if attribution:
        st.caption(attribution)
    facts_ui(loaded)
    report_ui(loaded)
    st.header("What to forecast")
    columns_ui(loaded)
    ui.ensure_advice()
    st.header("Preparation")
    ui.classroom_note()
    preparation_ui(loaded)
    _, error = ui.validated_config()
    if error:
        st.error(error, icon=":material/block:")
    plotted = plot_ui(loaded)
    st.header("Preview")
    shown = preview_columns(loaded, plotted)
    n_columns = len(loaded.frame.columns)
    of_columns = (f" and {len(shown):,} of {n_columns:,} columns (those plotted first)"
                  if len(shown) < n_columns else "")
    n_rows = len(loaded.frame)
    rows_text = (f"first {PREVIEW_ROWS:,} of {n_rows:,} rows" if n_rows > PREVIEW_ROWS else
                 f"all {n_rows:,} row{'s' * (n_rows != 1)}")
    st.caption(f"The cleaned table, {rows_text}{of_columns}.")
    st.dataframe(preview(loaded.frame[shown]), height=250, key="data_preview")
    ui.page_link("model", "Next: shape the network", icon=":material/arrow_forward:")


if __name__ == "__main__":
    main()
