"""Bad config, options and outputs: unknown or mistyped config keys, unreadable config files, --as-of, and output
paths that can never be written (checked before any work).

The machinery (what every case must get, the corpus run): tests/e2e/bad_inputs.py; the table: BAD_INPUTS.md.
"""
from __future__ import annotations

import pytest

from tests.e2e.bad_inputs import CaseBook, Corpus, Ctx, check_case

CASES = CaseBook()


@CASES.case("no lead created before --as-of", "features", "error", "no lead was created before 2020-01-01")
def c_all_leads_after_as_of(x: Ctx) -> list[str]:
    return x.features(as_of="2020-01-01")


@CASES.case("empty --as-of", "features", "error", "--as-of ''", "not a date")
def c_empty_as_of(x: Ctx) -> list[str]:
    return x.features(as_of="")


@CASES.case("output in a missing folder", "features", "error", "output folder", "does not exist")
def c_output_missing_folder(x: Ctx) -> list[str]:
    return x.features(output=x.d / "nowhere" / "f.parquet")


@CASES.case("output folder is a file (read-only stand-in)", "features", "error", "notes.txt", "is not a directory")
def c_output_under_file(x: Ctx) -> list[str]:
    x.text("notes.txt", "a file, not a folder")
    return x.features(output=x.d / "notes.txt" / "f.parquet")


@CASES.case("output path is a directory", "features", "error", "dir.parquet", "is a directory")
def c_output_is_directory(x: Ctx) -> list[str]:
    (x.d / "dir.parquet").mkdir()
    return x.features(output=x.d / "dir.parquet")


@CASES.case("output with unsupported suffix (.json)", "features", "error", "scores.json", "unsupported output type")
def c_output_bad_suffix(x: Ctx) -> list[str]:
    return x.features(output=x.d / "out" / "scores.json")


@CASES.case("config: unknown key", "features", "error", "cfg.yaml", "unknown key 'data.lead_colums'",
      "did you mean 'data.lead_columns'")
def c_config_unknown_key(x: Ctx) -> list[str]:
    return x.features(config=x.text("cfg.yaml", "data:\n  lead_colums:\n    lead_id: id\n"))


@CASES.case("config: wrong type", "features", "error", "cfg.yaml", "'training.horizon_days'", "'ninety'")
def c_config_wrong_type(x: Ctx) -> list[str]:
    return x.features(config=x.text("cfg.yaml", "training:\n  horizon_days: ninety\n"))


@CASES.case("config: missing file", "features", "error", "nope.yaml", "config file not found")
def c_config_missing_file(x: Ctx) -> list[str]:
    return x.features(config=str(x.d / "nope.yaml"))


@CASES.case("config: a directory", "features", "error", "cfgdir", "is a directory")
def c_config_is_directory(x: Ctx) -> list[str]:
    (x.d / "cfgdir").mkdir()
    return x.features(config=str(x.d / "cfgdir"))


@CASES.case("config: invalid YAML", "features", "error", "cfg.yaml", "not valid YAML")
def c_config_bad_yaml(x: Ctx) -> list[str]:
    return x.features(config=x.text("cfg.yaml", "data: [unclosed\n"))


@pytest.mark.parametrize("cid", list(CASES))
def test_bad_input(bad_corpus: Corpus, cid: str) -> None:
    check_case(bad_corpus, cid)
