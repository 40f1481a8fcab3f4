"""File I/O: CSV or Parquet by extension, clear errors for unreadable files, atomic writes.

Writes never leave a partial file, even under SIGKILL: on Linux the data goes into an anonymous
`O_TMPFILE` inode in the target folder that only gets a name once it is complete and fsynced, and
then replaces the target with one `rename`. Elsewhere a hidden named temp file is used and removed
on any Python-level failure.
"""
from __future__ import annotations

import contextlib
import csv
import os
import re
import secrets
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.errors import InputError, first_line

PARQUET_SUFFIXES = (".parquet", ".pq")
TABLE_SUFFIXES = (*PARQUET_SUFFIXES, ".csv")


def is_parquet(path: str | Path) -> bool:
    """Whether a table path is Parquet (by its suffix); every other table file is CSV."""
    return Path(path).suffix.lower() in PARQUET_SUFFIXES
TEMP_PATTERN = re.compile(r"^\..+\.[0-9a-f]{8}\.tmp$")  # what atomic writers name their temp files


def read_table(path: str | Path, text_columns: Sequence[str] = ()) -> pd.DataFrame:
    """Read a CSV or Parquet file; any failure becomes a one-line InputError naming the file.

    `text_columns` (ids) are read from CSV as text exactly as written, so '00123' stays '00123'.
    """
    path = Path(path)
    check_readable(path)
    parquet = is_parquet(path)
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty (no header, no rows)")
    try:
        if parquet:
            check_unique_header(path, pq.read_schema(path).names)
            return pq.read_table(path).to_pandas()
        return _read_csv(path, text_columns)
    except InputError:
        raise
    except (pa.ArrowException, OSError, ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a readable {'Parquet' if parquet else 'CSV'} file ({first_line(exc)})") from None


def iter_table(path: str | Path, text_columns: Sequence[str] = (), batch_rows: int = 1_000_000,
               columns: Sequence[str] | None = None) -> Iterator[pd.DataFrame]:
    """Read a CSV or Parquet file in batches of about `batch_rows` rows (Parquet: only `columns` that
    exist, if given), with the same checks and one-line errors as `read_table`. A file with a header
    and no rows yields one empty frame, so the contracts see its columns."""
    path = Path(path)
    check_readable(path)
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty (no header, no rows)")
    parquet = is_parquet(path)
    try:
        if parquet:
            source = pq.ParquetFile(path)
            names = source.schema_arrow.names
            check_unique_header(path, names)
            wanted = [c for c in columns if c in names] if columns is not None else None
            empty = True
            for batch in source.iter_batches(batch_size=batch_rows, columns=wanted):
                empty = False
                yield batch.to_pandas()
            if empty:
                yield source.schema_arrow.empty_table().select(wanted or names).to_pandas()
            return
        check_csv_head(path)
        dtype = {c: str for c in text_columns if c}
        first = True
        with pd.read_csv(path, encoding="utf-8-sig", low_memory=False, dtype=dtype or None, chunksize=batch_rows) as reader:
            for frame in reader:
                if first:
                    _check_csv_columns(path, frame)
                    first = False
                yield frame
        if first:  # header only
            yield pd.read_csv(path, encoding="utf-8-sig", dtype=dtype or None)
    except InputError:
        raise
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: file is empty (no header, no rows)") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({bad_byte(path, exc)}); re-export the file as CSV UTF-8") from None
    except (pa.ArrowException, OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"{path}: not a readable {'Parquet' if parquet else 'CSV'} file ({first_line(exc)})") from None


def count_rows(path: str | Path) -> int:
    """Data rows of a table file, cheaply: Parquet metadata, or line breaks of a CSV (an upper bound
    when cells hold line breaks). Used to size chunks, never to check the data."""
    path = Path(path)
    check_readable(path)  # the first look at a file: missing / a folder is the one-line error here too
    if is_parquet(path):
        try:
            return pq.ParquetFile(path).metadata.num_rows
        except (pa.ArrowException, OSError):
            return 0  # unreadable: the read itself reports it
    lines, last = 0, b"\n"
    with open(path, "rb") as handle:
        while block := handle.read(1 << 22):
            lines += block.count(b"\n")
            last = block[-1:]
    return max(lines + (last != b"\n") - 1, 0)


def check_csv_head(path: Path) -> None:
    """The checks a CSV file's first bytes and header row allow: UTF-16, binary data, a separator other
    than the comma, a column named twice; each a one-line InputError."""
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{path}: file is UTF-16 text (Excel 'Unicode Text'); re-export it as CSV UTF-8")
    if b"\x00" in head:
        raise InputError(f"{path}: binary data, not a CSV text file (NUL bytes near the start)")
    header = head.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    if "," not in header:
        for sep, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "pipes")):
            if sep in header:
                raise InputError(f"{path}: the header is separated by {name} ({header[:60]!r}); "
                                 "the file must be comma-separated")
    try:
        with open(path, encoding="utf-8-sig", errors="replace", newline="") as text:
            names = next(csv.reader(text), [])  # the whole header row (pandas would rename a repeat to 'email.1')
    except csv.Error:
        return  # not parseable as a header: the read itself reports it
    check_unique_header(path, [n.strip() for n in names])


def check_unique_header(path: Path, names: Sequence[str]) -> None:
    """Two columns of one name: which one would be used is a guess, so it is an error naming both."""
    seen: dict[str, int] = {}
    for i, name in enumerate(names, start=1):
        if name in seen and name != "":
            raise InputError(f"{path}: column '{name}' appears twice in the header (columns {seen[name]} and {i}); "
                             f"rename or drop one")
        seen.setdefault(name, i)


def _check_csv_columns(path: Path, frame: pd.DataFrame) -> None:
    if frame.shape[1] == 1 and len(str(frame.columns[0])) > 1 and any(sep in str(frame.columns[0]) for sep in ";\t|"):
        raise InputError(
            f"{path}: found a single column {str(frame.columns[0])[:60]!r}; the file must be comma-separated"
        )


def _read_csv(path: Path, text_columns: Sequence[str] = ()) -> pd.DataFrame:
    check_csv_head(path)
    dtype = {c: str for c in text_columns if c}
    try:
        frame = pd.read_csv(path, encoding="utf-8-sig", low_memory=False, dtype=dtype or None)
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: file is empty (no header, no rows)") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({bad_byte(path, exc)}); re-export the file as CSV UTF-8") from None
    _check_csv_columns(path, frame)
    return frame


def bad_byte(path: Path, exc: UnicodeDecodeError) -> str:
    """'byte 0xfc on line 3' for the first byte that is not UTF-8 (the BOM is skipped by the codec)."""
    raw = path.read_bytes()
    offset = exc.start + (3 if raw.startswith(b"\xef\xbb\xbf") else 0)
    line = raw.count(b"\n", 0, offset) + 1
    return f"byte 0x{raw[offset]:02x} on line {line}" if offset < len(raw) else f"bad byte at offset {offset}"


def check_readable(path: Path) -> None:
    """A file that exists, is not a folder and is CSV or Parquet by its extension, else a one-line InputError."""
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
    if not folder.is_dir():
        raise InputError(f"{folder}: is a file; --data must be a folder holding leads, events and outcomes files")
    raise InputError(f"{folder}: no '{stem}' file (.parquet or .csv) in this folder")


def find_optional_table(folder: str | Path, stem: str) -> Path | None:
    try:
        return find_table(folder, stem)
    except InputError:
        return None


def check_output(target: str | Path) -> Path:
    """Fail fast, before any work, on an output path that can never be written."""
    target = Path(target)
    if target.suffix.lower() not in TABLE_SUFFIXES:
        raise InputError(f"{target}: unsupported output type '{target.suffix}'; use .parquet or .csv")
    _check_output_folder(target)
    return target


def _check_output_folder(target: Path) -> None:
    folder = target.parent
    if target.is_dir():
        raise InputError(f"{target}: is a directory; give a file name for the output")
    if not folder.exists():
        # a missing folder, or a path through a regular file (some_file.txt/out.parquet)
        blocker = next((p for p in [folder, *folder.parents] if p.exists()), None)
        if blocker is not None and not blocker.is_dir():
            raise InputError(f"{target}: output folder {folder} is not a directory ({blocker} is a file)")
        raise InputError(f"{target}: output folder {folder} does not exist")
    if not folder.is_dir():
        raise InputError(f"{target}: output folder {folder} is not a directory")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"{target}: output folder {folder} is not writable")


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; it replaces `target` only if the block succeeds.

    For code that needs a path (not a file object). A SIGKILL inside the block can leave the hidden
    temp file `.NAME.XXXXXXXX.tmp` behind (never a partial `target`); prefer `atomic_file`.
    """
    target = Path(target)
    _check_output_folder(target)
    tmp_path = target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    os.close(fd)
    try:
        yield tmp_path
        _fsync_path(tmp_path)
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_file(target: str | Path) -> Iterator[BinaryIO]:
    """Yield a binary file whose content replaces `target` only if the block completes.

    The data is written to an unnamed O_TMPFILE inode in the target folder: if the process dies
    (even by SIGKILL) before the end, the kernel frees it and nothing is left beside the target.
    """
    target = Path(target)
    _check_output_folder(target)
    folder = target.parent
    try:
        fd = os.open(folder, os.O_TMPFILE | os.O_RDWR, 0o666)
    except (AttributeError, OSError):  # no O_TMPFILE (macOS, some filesystems): named temp file
        with atomic_path(target) as tmp, open(tmp, "wb") as handle:
            yield handle
            handle.flush()
        return
    tmp_path = folder / f".{target.name}.{secrets.token_hex(4)}.tmp"
    with open(fd, "w+b") as handle:
        yield handle
        handle.flush()
        os.fsync(handle.fileno())
        _name_tmpfile(handle, tmp_path)
    try:
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def _name_tmpfile(handle: BinaryIO, tmp_path: Path) -> None:
    """Give the complete O_TMPFILE inode a (hidden) name, or copy it there if linking is refused."""
    dir_fd = os.open(tmp_path.parent, os.O_RDONLY)
    try:
        # linkat(AT_SYMLINK_FOLLOW): os.link only uses linkat when a dir fd is given
        os.link(f"/proc/self/fd/{handle.fileno()}", tmp_path.name, dst_dir_fd=dir_fd, follow_symlinks=True)
        return
    except OSError:
        pass
    finally:
        os.close(dir_fd)
    try:
        handle.seek(0)
        with open(tmp_path, "xb") as copy:
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
            copy.flush()
            os.fsync(copy.fileno())
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def write_table(frame: pd.DataFrame, target: str | Path) -> Path:
    """Write a frame as Parquet (zstd) or CSV by extension, atomically (see `atomic_file`)."""
    target = check_output(target)
    table = pa.Table.from_pandas(frame, preserve_index=False) if is_parquet(target) else None
    with atomic_file(target) as handle:
        if table is None:
            handle.write(frame.to_csv(index=False).encode("utf-8"))
        else:
            pq.write_table(table, handle, compression="zstd")
    return target


class TableWriter:
    """Append frames to one CSV or Parquet (zstd) file that appears atomically when the block ends
    without an error (see `atomic_file`); nothing is left behind otherwise. Every frame must have the
    first frame's columns; a block that writes no frame writes an empty file with `columns`."""

    def __init__(self, target: str | Path, columns: Sequence[str] = ()):
        self.target, self.columns = check_output(target), list(columns)
        self.rows = 0
        self._schema: pa.Schema | None = None
        self._parquet: pq.ParquetWriter | None = None

    def __enter__(self) -> TableWriter:
        self._atomic = atomic_file(self.target)
        self._handle = self._atomic.__enter__()
        return self

    def write(self, frame: pd.DataFrame) -> None:
        if not is_parquet(self.target):
            self._handle.write(frame.to_csv(index=False, header=self.rows == 0).encode("utf-8"))
        else:
            table = pa.Table.from_pandas(frame, schema=self._schema, preserve_index=False)
            if self._parquet is None:
                self._schema = table.schema
                self._parquet = pq.ParquetWriter(self._handle, self._schema, compression="zstd")
            self._parquet.write_table(table)
        self.rows += len(frame)

    def __exit__(self, exc_type: object, exc: object, tb: object) -> bool | None:
        if exc_type is None and self.rows == 0:
            self.write(pd.DataFrame(columns=self.columns))
        if self._parquet is not None:
            if exc_type is None:
                self._parquet.close()
            else:
                with contextlib.suppress(Exception):
                    self._parquet.close()
        return self._atomic.__exit__(exc_type, exc, tb)


def leftover_temp_files(folder: str | Path) -> list[Path]:
    """Hidden temp files of interrupted atomic writes in `folder` (for checks and clean-up)."""
    return sorted(p for p in Path(folder).iterdir() if TEMP_PATTERN.match(p.name))


def _fsync_path(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


