import os

import pandas as pd
import pytest

from pipeline.errors import InputError
from pipeline.inputs.io import atomic_path, find_table, read_table, write_table


def test_round_trip_parquet_and_csv(tmp_path):
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    for name in ("t.parquet", "t.csv"):
        write_table(frame, tmp_path / name)
        back = read_table(tmp_path / name)
        assert back["a"].tolist() == [1, 2] and back["b"].astype(str).tolist() == ["x", "y"]


def test_failed_write_leaves_previous_file_untouched_and_no_temp(tmp_path):
    target = tmp_path / "out.parquet"
    write_table(pd.DataFrame({"a": [1]}), target)
    before = target.read_bytes()
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"partial")
            raise RuntimeError("killed mid-way")
    assert target.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["out.parquet"]


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"\xff\xfe\x00bad bytes\x81\x82", "UTF-8"),
    (b"lead_id;created_at\n1;2025-01-01\n", "comma-separated"),
])
def test_unreadable_csv_files_give_one_line_errors(tmp_path, content, message):
    path = tmp_path / "leads.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as err:
        read_table(path)
    assert "leads.csv" in str(err.value) and "\n" not in str(err.value)


def test_bom_csv_reads_clean_header(tmp_path):
    path = tmp_path / "leads.csv"
    path.write_bytes("\ufefflead_id,x\n1,2\n".encode("utf-8"))
    assert list(read_table(path).columns) == ["lead_id", "x"]


def test_corrupt_parquet_directory_and_missing_file(tmp_path):
    bad = tmp_path / "x.parquet"
    bad.write_bytes(b"PAR1 not really")
    with pytest.raises(InputError, match="not a readable Parquet"):
        read_table(bad)
    with pytest.raises(InputError, match="is a directory"):
        read_table(tmp_path)
    with pytest.raises(InputError, match="not found"):
        read_table(tmp_path / "missing.csv")


def test_find_table_prefers_parquet_and_reports_missing(tmp_path):
    (tmp_path / "leads.csv").write_text("lead_id\n1\n")
    assert find_table(tmp_path, "leads").name == "leads.csv"
    (tmp_path / "leads.parquet").write_bytes(b"")
    assert find_table(tmp_path, "leads").name == "leads.parquet"
    with pytest.raises(InputError, match="no 'events' file"):
        find_table(tmp_path, "events")


def test_write_into_missing_folder_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "nope" / "out.parquet")


def test_duplicate_column_names_are_an_error_naming_file_and_column(tmp_path) -> None:
    """Issue 13: pandas would read a repeated CSV header as 'email.1' and score silently."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.errors import InputError
    from pipeline.inputs.io import count_rows, iter_table, read_table

    csv_path = tmp_path / "leads.csv"
    csv_path.write_text("lead_id,email,country,email\nL1,a@b.com,DE,c@d.com\n")
    parquet_path = tmp_path / "leads.parquet"
    pq.write_table(pa.table([["L1"], ["a"], ["b"]], names=["lead_id", "email", "email"]), parquet_path)
    for path in (csv_path, parquet_path):
        for read in (lambda p: read_table(p), lambda p: list(iter_table(p))):
            with pytest.raises(InputError, match=r"leads\.(csv|parquet): column 'email' appears twice in the header "
                                                 r"\(columns 2 and (3|4)\)"):
                read(path)
    # the chunk sizing look at a file is also where a missing file or a folder is reported
    with pytest.raises(InputError, match="nope.csv: file not found"):
        count_rows(tmp_path / "nope.csv")
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(InputError, match="dir.csv: is a directory"):
        count_rows(tmp_path / "dir.csv")
