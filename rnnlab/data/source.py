"""Where a data file's bytes come from, and how large a file RNN Lab reads.

`_read_source` takes a path, a sample's name or uploaded bytes and returns the raw bytes, a
display name and the shipped sample they are (if any), checking the size before reading.
`check_size` applies the one size limit, MAX_UPLOAD_BYTES, the same in the dashboard's uploader
and the CLI; MAX_COLUMNS and MAX_UNPACKED_BYTES keep a small file from growing into a huge table.
"""

from __future__ import annotations

from pathlib import Path

from rnnlab.data.findings import _count
from rnnlab.errors import DataError
from rnnlab.samples import SAMPLE_DIR, SAMPLES, Sample, resolve_source, sample_for

# The largest data file, in the dashboard and the CLI alike: Streamlit's file uploader counts
# server.maxUploadSize (.streamlit/config.toml) in megabytes of 1,000,000 bytes, and so do we.
MAX_UPLOAD_MB = 200
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1000 * 1000
MAX_COLUMNS = 10_000
MAX_UNPACKED_BYTES = 1024 ** 3   # a workbook or Parquet file may unpack to at most this


def _read_source(source: str | Path | bytes, filename: str | None,
                 max_bytes: int) -> tuple[bytes, str, Sample | None]:
    """The raw bytes, a display name and the sample it is (if any); checks the size first."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        raw = bytes(source)
        name = Path(filename).name if filename else "upload"
        check_size(len(raw), name, max_bytes)
        return raw, name, _sample_of_bytes(raw, name)
    path = resolve_source(source)
    check_size(path.stat().st_size, path.name, max_bytes)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"Could not read {path}: {exc.strerror}. Check that the file exists and "
                        "that RNN Lab may read it.") from None
    return raw, path.name, sample_for(path)


def _sample_of_bytes(raw: bytes, name: str) -> Sample | None:
    """An upload counts as a sample only if it is byte for byte the shipped file."""
    sample = SAMPLES.get(name)
    if sample is None:
        return None
    shipped = SAMPLE_DIR / sample.file
    return sample if shipped.is_file() and shipped.read_bytes() == raw else None


def check_size(n_bytes: int, name: str, max_bytes: int = MAX_UPLOAD_BYTES) -> None:
    """DataError when a data file of n_bytes is over the limit (the dashboard's upload limit)."""
    if n_bytes > max_bytes:
        limit = (f"{MAX_UPLOAD_MB} MB ({MAX_UPLOAD_BYTES:,} bytes), as in the dashboard"
                 if max_bytes == MAX_UPLOAD_BYTES else _megabytes(max_bytes))
        raise DataError(f"{name} is {_megabytes(n_bytes)}; the limit is {limit}. "
                        "Use a shorter time span or fewer columns, or save it as Parquet, "
                        "which is smaller.")


def _megabytes(n_bytes: int) -> str:
    """'250.0 MB', '12.5 kB' or '80 bytes', in units of 1,000 bytes as the uploader counts."""
    if n_bytes >= 1000 * 1000:
        return f"{n_bytes / 1e6:.1f} MB"
    return f"{n_bytes / 1000:.1f} kB" if n_bytes >= 1000 else _count(n_bytes, "byte")


def _too_many_columns(n: int) -> DataError:
    return DataError(f"The file has {n:,} columns; RNN Lab reads at most {MAX_COLUMNS:,}. "
                     "Keep only the date and the columns you want to forecast from, then load it "
                     "again.")
