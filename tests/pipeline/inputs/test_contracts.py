import pandas as pd
import pytest

from pipeline.config import Config, parse_config
from pipeline.errors import InputError
from pipeline.inputs.cells import parse_label
from pipeline.inputs.contracts import prepare_events, prepare_leads, prepare_outcomes


def leads_frame(**overrides):
    frame = pd.DataFrame({"lead_id": ["a", "b", "c"], "created_at": ["2025-01-01", "2025-01-02", "2025-01-03T10:00:00Z"]})
    for k, v in overrides.items():
        frame[k] = v
    return frame


def test_leads_are_mapped_and_parsed():
    out = prepare_leads(leads_frame(), Config().data, "leads.csv")
    assert str(out["created_at"].dtype) == "datetime64[ns]"
    assert out["created_at"].iloc[2] == pd.Timestamp("2025-01-03 10:00:00")


def test_duplicate_ids_name_file_column_and_rows():
    frame = leads_frame(lead_id=["a", "b", "a"])
    with pytest.raises(InputError) as err:
        prepare_leads(frame, Config().data, "leads.csv")
    text = str(err.value)
    assert "leads.csv" in text and "'lead_id'" in text and "rows 1, 3" in text


def test_null_id_and_bad_dates_are_errors():
    with pytest.raises(InputError, match=r"empty ids, rows 2"):
        prepare_leads(leads_frame(lead_id=["a", None, "c"]), Config().data, "leads.csv")
    with pytest.raises(InputError, match=r"'created_at'.*not ISO dates, rows 2 \('03/01/2025'\)"):
        prepare_leads(leads_frame(created_at=["2025-01-01", "03/01/2025", "2025-01-02"]), Config().data, "leads.csv")


def test_missing_required_column_lists_what_was_found():
    with pytest.raises(InputError, match=r"missing required column 'created_at' \(columns found: lead_id\)"):
        prepare_leads(pd.DataFrame({"lead_id": ["a"]}), Config().data, "leads.csv")


def test_role_mapping_renames_user_columns():
    cfg = parse_config({"data": {"lead_columns": {"lead_id": "Prospect ID", "created_at": "Created", "job_title": "Title"}}})
    frame = pd.DataFrame({"Prospect ID": ["x"], "Created": ["2025-01-01"], "Title": ["CEO"]})
    out = prepare_leads(frame, cfg.data, "crm.csv")
    assert {"lead_id", "created_at", "job_title"} <= set(out.columns)


def test_events_of_unknown_leads_are_dropped_with_a_warning(caplog):
    events = pd.DataFrame({"lead_id": ["a", "zzz"], "timestamp": ["2025-01-02", "2025-01-03"],
                           "event_type": ["page_view", "x"]})
    out = prepare_events(events, Config().data, "events.csv", pd.Series(["a", "b"]))
    assert out["lead_id"].tolist() == ["a"]
    assert "1 events of 1 leads not in the leads file" in caplog.text


def test_outcomes_allow_empty_conversion_dates():
    frame = pd.DataFrame({"lead_id": ["a", "b"], "converted_at": ["2025-02-01", None]})
    out = prepare_outcomes(frame, Config().data, "o.csv")
    assert out["converted_at"].isna().tolist() == [False, True]


def test_label_parsing_accepts_words_and_rejects_others():
    assert parse_label(pd.Series(["yes", "No", "1", "0", True]), "f", "y").tolist() == [1, 0, 1, 0, 1]
    with pytest.raises(InputError, match=r"rows 2 \('maybe'\)"):
        parse_label(pd.Series(["1", "maybe"]), "f", "y")
