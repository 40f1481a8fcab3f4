from pathlib import Path

import pytest

from pipeline.config import Config, load_config, parse_config
from pipeline.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def test_shipped_default_config_loads_and_matches_builtin_defaults():
    cfg = load_config(REPO / "configs/default.yaml")
    assert cfg.training.horizon_days == 90
    assert cfg.model_dump() == Config().model_dump()


def test_unknown_key_is_an_error_with_a_suggestion():
    with pytest.raises(ConfigError, match=r"unknown key 'training.horizon'; did you mean 'training.horizon_days'"):
        parse_config({"training": {"horizon": 30}})


def test_unknown_section_suggests_the_closest_one():
    with pytest.raises(ConfigError, match=r"did you mean 'models'"):
        parse_config({"modles": {}})


def test_wrong_type_names_the_key_and_value():
    with pytest.raises(ConfigError, match=r"training.horizon_days.*'ninety'"):
        parse_config({"training": {"horizon_days": "ninety"}})


def test_grade_shares_must_leave_room_for_d():
    with pytest.raises(ConfigError, match="below 1"):
        parse_config({"scoring": {"grades": {"A": 0.5, "B": 0.3, "C": 0.3}}})


def test_static_mode_needs_a_label_column():
    with pytest.raises(ConfigError, match="label"):
        parse_config({"data": {"mode": "static"}})


def test_missing_config_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")


def test_invalid_yaml_is_an_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("training: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_fingerprint_changes_with_config_and_params_are_flat():
    a, b = Config(), parse_config({"training": {"horizon_days": 60}})
    assert a.fingerprint() != b.fingerprint()
    assert a.fingerprint() == Config().fingerprint()
    params = b.flat_params()
    assert params["training.horizon_days"] == "60"
    assert all(isinstance(v, str) for v in params.values())


def test_backtest_split_overrides_training_only_where_set() -> None:
    cfg = parse_config({"training": {"val_weeks": 6, "test_weeks": 5, "gap_days": 60},
                        "backtest": {"val_weeks": 3, "gap_days": None}}, "c.yaml")
    split = cfg.backtest.applied_to(cfg.training)
    assert (split.val_weeks, split.test_weeks, split.gap_days) == (3, 5, 60)  # null keeps training's value
    assert cfg.training.val_weeks == 6  # train itself is unchanged
    default = load_config(None)
    assert (default.backtest.gap_days, default.backtest.val_weeks) == (None, 4)
    with pytest.raises(ConfigError, match="backtest.val_weeks"):
        parse_config({"backtest": {"val_weeks": 0}}, "c.yaml")


def _config_keys(model: type, prefix: str = "") -> list[str]:
    from pydantic import BaseModel

    out = []
    for name, field in model.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            out += _config_keys(field.annotation, f"{prefix}{name}.")
        else:
            out.append(prefix + name)
    return out


def test_every_config_key_is_documented_in_the_default_config() -> None:
    """configs/default.yaml names every key of every section (set, or commented out with its default)."""
    import re

    from pipeline.config import Config

    text = (Path(__file__).resolve().parents[2] / "configs/default.yaml").read_text()
    lines = text.splitlines()
    missing = []
    for key in _config_keys(Config):
        *sections, leaf = key.split(".")
        # the leaf must appear below its section's header, before the next top-level section
        start = 0
        for depth, section in enumerate(sections):
            found = next((i for i in range(start, len(lines))
                          if re.match(rf"^{'  ' * depth}{re.escape(section)}:", lines[i])), None)
            if found is None:
                break
            start = found + 1
        else:
            end = next((i for i in range(start, len(lines)) if re.match(r"^\S", lines[i])), len(lines))
            if any(re.match(rf"^\s*#?\s*{re.escape(leaf)}:", line) for line in lines[start:end]):
                continue
        missing.append(key)
    assert missing == []


def _segments(*define: dict) -> dict:
    return {"segments": {"define": list(define)}}


def test_segments_load_from_the_example_config():
    cfg = load_config(REPO / "configs/examples/segments.yaml")
    assert [s.name for s in cfg.segments.define] == ["north_america", "europe", "singapore"]
    assert cfg.segments.define[0].keys() == {"united states", "canada"}
    assert cfg.resolve(cfg.models.points.rules).exists()
    assert cfg.training == Config().training  # everything else keeps its default


@pytest.mark.parametrize("define, message", [
    ([{"name": "a", "column": "country", "values": ["US", "DE"]}, {"name": "b", "column": "Country", "values": [" de"]}],
     r"^config: segments 'a' and 'b' overlap: country 'de' is in both"),
    ([{"name": "a", "column": "country", "values": ["US", "DE"]}, {"name": "rest", "column": "country", "not_in": ["US"]}],
     r"segments 'a' and 'rest' overlap: country 'de' is in both"),
    ([{"name": "a", "column": "country", "not_in": ["US"]}, {"name": "b", "column": "country", "not_in": ["DE"]}],
     r"segments 'a' and 'b' overlap: country any value outside both not_in lists is in both"),
    ([{"name": "a", "column": "country", "values": ["US"]}, {"name": "a", "column": "industry", "values": ["x"]}],
     r"the name 'a' is used twice"),
    ([{"name": "a", "column": "country"}], r"segment 'a': give exactly one of values or not_in"),
    ([{"name": "a", "column": "country", "values": ["US"], "not_in": ["DE"]}], r"exactly one of values or not_in"),
    ([{"name": "north america", "column": "country", "values": ["US"]}], r"segments.define.0.name"),
    ([{"name": "a", "colum": "country", "values": ["US"]}], r"'segments.define.0.column': Field required"),
])
def test_bad_segments_are_one_line_errors(define, message):
    with pytest.raises(ConfigError, match=message) as err:
        parse_config(_segments(*define))
    assert "\n" not in str(err.value)


def test_disjoint_segments_on_one_column_and_segments_on_other_columns_load():
    cfg = parse_config(_segments({"name": "na", "column": "country", "values": ["US", "Canada"]},
                                 {"name": "rest", "column": "country", "not_in": ["us", "CANADA"]},
                                 {"name": "software", "column": "industry", "values": ["Software"]}))
    assert [s.name for s in cfg.segments.define] == ["na", "rest", "software"]  # cross-column: checked at train
    with pytest.raises(ConfigError, match="segments.min_conversions"):
        parse_config({"segments": {"min_conversions": 0}})
