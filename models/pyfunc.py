"""The MLflow pyfunc: lead-level feature table in, SPEC 4 scoring columns out.

It works with `mlflow models serve` and `mlflow.pyfunc.spark_udf` because all state (builder, model,
calibration, grades, labels) is one joblib artifact and the code ships with the model (code_paths).

Serving (tests/e2e/test_serving.py): POST `{"dataframe_split": {"columns": [...], "data": [...]},
"params": {"model_version": "3"}}` to /invocations with the rows of the model's own feature table
(`leadscore features --model-uri URI` writes them; without `--model-uri` it fits a new builder, whose
columns can differ): `as_of` as ISO text, missing values as null.
The input signature makes MLflow parse the text back into datetimes and floats before `predict`.
Spark (pipeline/spark/score.py): `spark_udf` cannot return timestamps inside a struct, so that caller asks
for `as_of` / `scored_at` as text and casts them back.
"""
from __future__ import annotations

from typing import Any

import mlflow.pyfunc
import pandas as pd


class LeadScorerModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context: Any) -> None:
        import joblib

        self.scorer = joblib.load(context.artifacts["scorer"])

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        params = params or {}
        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        return self.scorer.score(
            frame, explain=bool(params.get("explain", True)), model_version=str(params.get("model_version", ""))
        )
