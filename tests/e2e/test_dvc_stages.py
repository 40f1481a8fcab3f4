"""dvc.yaml stages call the same CLI: every stage command must parse against the real `leadscore` app."""
from __future__ import annotations

import shlex

import typer.main
import yaml

from pipeline.cli import app
from tests.conftest import REPO


def stage_commands() -> dict[str, list[str]]:
    spec = yaml.safe_load((REPO / "dvc.yaml").read_text())
    variables = {k: v for item in spec.get("vars", []) for k, v in item.items()}
    out = {}
    for name, stage in spec["stages"].items():
        cmd = stage["cmd"]
        for key, value in variables.items():
            cmd = cmd.replace("${" + key + "}", str(value))
        out[name] = shlex.split(cmd.split(">")[0])
    return out


def test_dvc_has_generate_train_predict_chained():
    spec = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    assert {"generate", "train", "predict"} <= set(spec)
    produced = {str(o) if isinstance(o, str) else next(iter(o)) for s in spec.values() for o in s.get("outs", [])}
    for name in ("train", "predict"):
        assert set(map(str, spec[name]["deps"])) & produced, f"stage {name} depends on no upstream output"


def test_every_stage_command_parses_with_the_cli():
    group = typer.main.get_command(app)
    for name, argv in stage_commands().items():
        assert argv[0] == "leadscore", name
        sub = group.get_command(None, argv[1])
        assert sub is not None, f"stage {name}: unknown command {argv[1]}"
        ctx = sub.make_context(argv[1], argv[2:], resilient_parsing=False)
        assert ctx.params, name
