"""Issue #7 in-process: the contract rules (error vs proceed + one warning), atomic writes, output and
model-URI checks. The end-to-end corpus is tests/e2e/test_bad_inputs_*.py."""
from __future__ import annotations

import logging
import os

import numpy as np
import pandas as pd
import pytest

from models.estimators import known_categories
from pipeline.config import Config, parse_config
from pipeline.console import PACKAGE_LOGGERS
from pipeline.errors import InputError, NotEnoughDataError
from pipeline.inputs.cells import parse_amounts
from pipeline.inputs.contracts import prepare_events, prepare_leads
from pipeline.inputs.data import load_training_inputs
from pipeline.inputs.io import atomic_file, check_output, leftover_temp_files, read_table, write_table
from pipeline.model_uri import check_model_uri


def leads(n: int = 10, **columns: object) -> pd.DataFrame:
    frame = pd.DataFrame({"lead_id": [f"L{i}" for i in range(n)], "created_at": "2025-01-01"})
    for name, values in columns.items():
        frame[name] = values
    return frame


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name.split(".")[0] in PACKAGE_LOGGERS and r.levelno == logging.WARNING]


# ------------------------------------------------------------------ numbers


def test_crm_number_formats_are_understood():
    values = pd.Series(["51-200", "1,200", "10,000+", "$1.5M", "250k", " 42 ", "-3", "1,5", "about 50", None, ""])
    out = parse_amounts(values)
    assert out[:7].tolist() == [125.5, 1200.0, 10000.0, 1.5e6, 250e3, 42.0, -3.0]
    assert out[7:].isna().all()  # '1,5' is ambiguous (decimal comma?), so not a number


def test_text_negative_inf_and_huge_values_become_missing_with_one_warning_each(caplog):
    frame = leads(employees=["12", "about 50", "-4", "inf", "9e12", "7", "", "3", "5", "6"])
    out = prepare_leads(frame, Config().data, "leads.csv")
    assert out["employees"].isna().tolist() == [False, True, True, True, True, False, True, False, False, False]
    messages = warnings_of(caplog)
    assert len(messages) == 4
    assert "1 values that are not numbers count as missing ('employees' 1, rows 2 ('about 50'))" in messages[0]
    assert any("negative values" in m and "rows 3" in m for m in messages)
    assert any("infinite values" in m and "rows 4" in m for m in messages)
    assert any("implausibly large" in m and "rows 5" in m for m in messages)


def test_mostly_text_in_a_numeric_role_is_an_error():
    with pytest.raises(InputError, match=r"'employees' should hold numbers but 3 of 4 values are text.*rows 1, 2, 3"):
        prepare_leads(leads(4, employees=["many", "few", "lots", "3"]), Config().data, "leads.csv")


def test_error_names_the_users_column_not_the_role():
    cfg = parse_config({"data": {"lead_columns": {"employees": "Headcount"}}})
    with pytest.raises(InputError, match="'Headcount'"):
        prepare_leads(leads(2, Headcount=["x", "y"]), cfg.data, "crm.csv")


def test_nan_is_plain_missing_data_without_warning(caplog):
    prepare_leads(leads(3, employees=[1.0, np.nan, 3.0], annual_revenue=[np.nan] * 3), Config().data, "leads.csv")
    assert warnings_of(caplog) == []


def test_generic_column_of_numbers_with_a_few_words_becomes_numeric(caplog):
    values = [str(i) for i in range(30)]
    values[4] = "unknown"
    out = prepare_leads(leads(30, fit_points=values), Config().data, "leads.csv")
    assert out["fit_points"].dtype == float and np.isnan(out["fit_points"][4])
    assert "('fit_points' 1, rows 5 ('unknown'))" in warnings_of(caplog)[0]


def test_a_text_column_stays_text(caplog):
    out = prepare_leads(leads(3, segment=["smb", "mid", "1"]), Config().data, "leads.csv")
    assert out["segment"].tolist() == ["smb", "mid", "1"] and warnings_of(caplog) == []


# ------------------------------------------------------------------ text and personal data


def test_long_text_is_cut_once_with_one_warning(caplog):
    out = prepare_leads(leads(3, job_title=["CEO", "x" * 10_000, None], notes=["y" * 5_000, "ok", "z"]),
                        Config().data, "leads.csv")
    assert out["job_title"].str.len().max() == 1_000 and out["notes"].str.len().max() == 1_000
    (message,) = warnings_of(caplog)
    assert message.startswith("leads.csv: 2 text cells longer than 1,000 characters were cut to 1,000")


def test_unmapped_personal_columns_are_dropped_with_one_warning(caplog):
    n = 40
    frame = leads(n, contact=[f"p{i}@b.com" if i % 3 else None for i in range(n)],
                  notes=["call me"] * (n - 1) + ["write to z@z.io"],
                  mobile=[f"+1 555 010 {i:04d}" for i in range(n)], **{"Full Name": [f"Ann Lee{i}" for i in range(n)]},
                  phone_verified=["yes", "no"] * (n // 2), plan=["pro", "free", "pro", "team"] * (n // 4),
                  **{"Do Not Email": ["No", "Yes"] * (n // 2)})
    out = prepare_leads(frame, Config().data, "leads.csv")
    assert not {"contact", "notes", "mobile", "Full Name"} & set(out.columns)
    assert {"phone_verified", "plan", "Do Not Email"} <= set(out.columns)  # flags, not personal data
    (message,) = warnings_of(caplog)
    assert "4 columns look like personal data" in message and "'contact' (e-mail addresses)" in message


def test_personal_columns_listed_in_the_config_are_not_reported(caplog):
    cfg = parse_config({"data": {"exclude_columns": ["status", "owner", "contact"]}})
    prepare_leads(leads(2, contact=["a@b.com", "c@d.org"]), cfg.data, "leads.csv")
    assert warnings_of(caplog) == []


# ------------------------------------------------------------------ ids, rows, columns, events


def test_header_only_blank_ids_and_doubled_columns_are_errors():
    with pytest.raises(InputError, match="no data rows"):
        prepare_leads(leads(0), Config().data, "leads.csv")
    with pytest.raises(InputError, match="empty ids, rows 2"):
        prepare_leads(leads(3).assign(lead_id=["a", "  ", "c"]), Config().data, "leads.csv")
    cfg = parse_config({"data": {"lead_columns": {"employees": "Headcount"}}})
    with pytest.raises(InputError, match="two columns map to 'employees'"):
        prepare_leads(leads(2, Headcount=[1, 2], employees=[3, 4]), cfg.data, "leads.csv")


def test_dates_held_as_numbers_are_an_error():
    with pytest.raises(InputError, match=r"'created_at' holds numbers, not dates"):
        prepare_leads(leads(2).assign(created_at=[1735689600, 1735776000]), Config().data, "leads.csv")


def test_event_cells_warn_once_per_kind(caplog):
    events = pd.DataFrame({"lead_id": ["L1"] * 4, "timestamp": "2025-01-02", "event_type": ["a", None, "", "b"],
                           "value": [1, "lots", None, 2]})
    out = prepare_events(events, Config().data, "events.csv")
    assert out["event_type"].tolist() == ["a", "unknown", "unknown", "b"]
    assert out["value"].isna().tolist() == [False, True, True, False]
    messages = warnings_of(caplog)
    assert len(messages) == 2 and "2 events without an event type" in messages[0] and "rows 2" in messages[1]


def test_events_header_only_proceeds_with_a_warning(caplog):
    events = pd.DataFrame(columns=["lead_id", "timestamp", "event_type"])
    assert len(prepare_events(events, Config().data, "events.csv")) == 0
    assert "no events (header only)" in warnings_of(caplog)[0]


# ------------------------------------------------------------------ training data


def test_static_labels_of_one_class_and_bad_labels(tmp_path):
    cfg = parse_config({"data": {"mode": "static", "lead_columns": {"label": "won"}}})
    path = tmp_path / "leads.csv"
    leads(50, won=0).to_csv(path, index=False)
    with pytest.raises(NotEnoughDataError, match=r"label column 'won' has one class only \(all 50 rows are 0\)"):
        load_training_inputs(cfg, path)
    leads(3, won=["1", "maybe", "0"]).to_csv(path, index=False)
    with pytest.raises(InputError, match=r"must be 0/1.*rows 2 \('maybe'\)"):
        load_training_inputs(cfg, path)


def test_events_mode_needs_a_folder_and_conversions(tmp_path):
    leads(5).to_csv(tmp_path / "leads.csv", index=False)
    with pytest.raises(InputError, match="--data must be a folder"):
        load_training_inputs(Config(), tmp_path / "leads.csv")
    outcomes = pd.DataFrame({"lead_id": [f"L{i}" for i in range(5)], "converted_at": [None] * 5})
    outcomes.to_csv(tmp_path / "outcomes.csv", index=False)
    with pytest.raises(NotEnoughDataError, match="'converted_at' is empty for all 5 leads"):
        load_training_inputs(Config(), tmp_path)


def test_ids_are_read_verbatim_from_csv(tmp_path):
    path = tmp_path / "leads.csv"
    path.write_text("lead_id,created_at\n000123,2025-01-01\n0042,2025-01-02\n")
    assert read_table(path, ["lead_id"])["lead_id"].tolist() == ["000123", "0042"]
    assert prepare_leads(read_table(path, ["lead_id"]), Config().data, "leads.csv")["lead_id"].tolist() == ["000123", "0042"]


# ------------------------------------------------------------------ files


@pytest.mark.parametrize("content, message", [
    (b"lead_id;created_at;note\n1;2025-01-01;a, b\n", "separated by semicolons"),
    (b"lead_id\tcreated_at\n1\t2025-01-01\n", "separated by tabs"),
    ("lead_id,created_at\n1,2025-01-01\n".encode("utf-16"), "UTF-16"),
    (b"lead_id,name\n1,ok\n2,M\xfcller\n", r"byte 0xfc on line 3"),
    (b"\x00\x01\x02binary", "binary data"),
])
def test_unreadable_csv_messages(tmp_path, content, message):
    path = tmp_path / "leads.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_table(path)


def test_empty_parquet_file_is_reported_as_empty(tmp_path):
    (tmp_path / "x.parquet").write_bytes(b"")
    with pytest.raises(InputError, match="file is empty"):
        read_table(tmp_path / "x.parquet")


def test_output_checks(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "dir.parquet").mkdir()
    with pytest.raises(InputError, match=r"is not a directory \(.*notes.txt is a file\)"):
        check_output(tmp_path / "notes.txt" / "deeper" / "out.parquet")
    with pytest.raises(InputError, match="is a directory"):
        check_output(tmp_path / "dir.parquet")
    with pytest.raises(InputError, match="does not exist"):
        check_output(tmp_path / "missing" / "out.csv")
    with pytest.raises(InputError, match="unsupported output type"):
        check_output(tmp_path / "out.json")


def test_atomic_file_leaves_nothing_on_failure_and_is_readable_on_success(tmp_path):
    target = tmp_path / "scores.parquet"
    target.write_bytes(b"previous")
    with pytest.raises(RuntimeError):
        with atomic_file(target) as handle:
            handle.write(b"half")
            raise RuntimeError("killed")
    assert target.read_bytes() == b"previous" and os.listdir(tmp_path) == ["scores.parquet"]
    write_table(pd.DataFrame({"a": [1, 2]}), target)
    assert pd.read_parquet(target)["a"].tolist() == [1, 2] and leftover_temp_files(tmp_path) == []
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask


# ------------------------------------------------------------------ models


@pytest.mark.parametrize("uri", ["models:/lead-scorer@champion", "models:/lead-scorer/3", "runs:/abc123/model",
                                 "models:/m-0123456789abcdef"])
def test_registry_and_run_uris_are_allowed(uri):
    check_model_uri(uri)


@pytest.mark.parametrize("uri, message", [
    ("https://example.com/model", "'https:' is not allowed"), ("s3://bucket/model", "'s3:' is not allowed"),
    ("models://profile@databricks/m/1", "not allowed"), ("models:/", "incomplete model URI"),
    ("/no/such/model", "no model there"),
])
def test_other_model_uris_are_refused(uri, message):
    with pytest.raises(InputError, match=message):
        check_model_uri(uri)


def test_local_model_folder_needs_an_mlmodel_file(tmp_path):
    with pytest.raises(InputError, match="no MLmodel file"):
        check_model_uri(str(tmp_path))
    (tmp_path / "MLmodel").write_text("flavors: {}\n")
    check_model_uri(str(tmp_path))
    check_model_uri(tmp_path.as_uri())


def test_known_categories_from_a_model_hook_or_its_encoder():
    class Hooked:
        def known_categories(self):
            return {"industry": ["Software"]}

    class Encoded:
        class encoder:  # noqa: N801 - mimics the fitted RareCategoryEncoder attribute
            categories_ = {"industry": ["Software", "__other__"]}

    assert known_categories(Hooked()) == {"industry": ["Software"]}
    assert known_categories(Encoded()) == {"industry": ["Software"]}
    assert known_categories(object()) == {}


def test_as_of_must_be_a_date():
    from pipeline.cli import _timestamp

    for bad in ("", "  ", "next tuesday", "2025-13-45"):
        with pytest.raises(InputError, match="not a date"):
            _timestamp(bad, "--as-of")
    assert _timestamp("2025-03-01T10:00:00+02:00", "--as-of") == pd.Timestamp("2025-03-01 08:00:00")
