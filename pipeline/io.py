"""File I/O: CSV or Parquet by extension, clear errors for unreadable files, atomic writes."""
from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.errors import InputError

TABLE_SUFFIXES = (".parquet", ".pq", ".csv")


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet file; any failure becomes a one-line InputError naming the file."""
    path = Path(path)
    _check_readable(path)
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pq.read_table(path).to_pandas()
        return _read_csv(path)
    except InputError:
        raise
    except (pa.ArrowException, OSError, ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        kind = "Parquet" if suffix != ".csv" else "CSV"
        raise InputError(f"{path}: not a readable {kind} file ({_one_line(exc)})") from None


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, encoding="utf-8-sig", low_memory=False)
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: file is empty (no header, no rows)") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (bad byte at offset {exc.start}); re-export the file as UTF-8") from None
    if frame.shape[1] == 1 and len(frame.columns[0]) > 1 and any(sep in frame.columns[0] for sep in ";\t|"):
        raise InputError(
            f"{path}: found a single column {frame.columns[0][:60]!r}; the file must be comma-separated"
        )
    return frame


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, expected a CSV or Parquet file")
    if path.suffix.lower() not in TABLE_SUFFIXES:
        raise InputError(f"{path}: unsupported file type '{path.suffix}'; use .csv or .parquet")


def find_table(folder: str | Path, stem: str) -> Path:
    """The file named `stem` (with or without extension) in `folder`, CSV or Parquet."""
    folder = Path(folder)
    direct = folder / stem
    if direct.suffix.lower() in TABLE_SUFFIXES:
        return direct
    for suffix in TABLE_SUFFIXES:
        candidate = folder / f"{stem}{suffix}"
        if candidate.exists():
            return candidate
    if not folder.exists():
        raise InputError(f"{folder}: data folder not found")
    raise InputError(f"{folder}: no '{stem}' file (.parquet or .csv) in this folder")


def find_optional_table(folder: str | Path, stem: str) -> Path | None:
    try:
        return find_table(folder, stem)
    except InputError:
        return None


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; it replaces `target` only if the block succeeds."""
    target = Path(target)
    folder = target.parent
    if not folder.exists():
        raise InputError(f"{target}: output folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise InputError(f"{target}: output folder {folder} is not writable")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_table(frame: pd.DataFrame, target: str | Path) -> Path:
    """Write a frame as Parquet (zstd) or CSV by extension, atomically."""
    target = Path(target)
    suffix = target.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise InputError(f"{target}: unsupported output type '{target.suffix}'; use .csv or .parquet")
    with atomic_path(target) as tmp:
        if suffix == ".csv":
            frame.to_csv(tmp, index=False)
        else:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            pq.write_table(table, tmp, compression="zstd")
    return target


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
