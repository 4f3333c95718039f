"""Read a table of time series, clean it, scale it and cut it into training windows.

`load` reads CSV/TSV, Excel (.xlsx) or Parquet from a path or from uploaded bytes (at most
MAX_UPLOAD_BYTES, checked before reading; never unpickling anything), finds the encoding, the
header row below any title or comment lines, the delimiter and decimal mark, the date column and
its format, turns the other columns into finite numbers, and writes a plain-language
`CleaningReport` of everything it changed. A file it cannot use raises DataError saying what is
wrong and what to do. `prepare` picks the target and input columns, splits
the rows chronologically into train / validation / test, fits a `Scaler` on the training rows only
and cuts windows with `windows.make_windows`.

One module per concern, in the order a file goes through them:

- `source`: the raw bytes of a path, sample or upload, and the size limits (`check_size`).
- `read`: `load`, the file's format (Excel, Parquet or text), and the sheet or columns used.
- `text`: delimited text: encoding, title lines, header row, delimiter, parsing.
- `dates`: the date column and its format (YYYYMMDD, decimal years, quarters, Unix time, ...).
- `frequency`: the regular grid of the dates, missing periods, stray dates.
- `numbers`: text read as numbers (thousands separators, decimal commas), tiny or huge values.
- `clean`: the cleaning steps in order and their result, `LoadedData`.
- `findings`: the `CleaningReport` and the wording its messages share.
- `scale`: `Scaler`, fitted on the training rows only.
- `split`: `prepare` and `Prepared`: columns, parts, transform, scaling and windows.

Everything here is pandas and numpy only: the web process imports it, so no TensorFlow.
"""

from rnnlab.data.clean import LoadedData
from rnnlab.data.findings import CleaningReport, Finding
from rnnlab.data.read import load
from rnnlab.data.scale import Scaler
from rnnlab.data.source import MAX_UPLOAD_BYTES, MAX_UPLOAD_MB, check_size
from rnnlab.data.split import (Prepared, _scale, _split_windows, choose_target, future_rows,
                               part_size, prepare)

__all__ = ["MAX_UPLOAD_BYTES", "MAX_UPLOAD_MB", "CleaningReport", "Finding", "LoadedData", "Prepared",
           "Scaler", "check_size", "choose_target", "future_rows", "load", "part_size", "prepare"]
