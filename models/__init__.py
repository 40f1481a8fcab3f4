"""Models on the feature table: estimators (points, logistic regression, LightGBM), calibration, grades,
metrics, SHAP reasons (explain.py), drift, plots and reports, the LeadScorer that bundles them, and its
MLflow pyfunc. No file or MLflow I/O of its own: pipeline/ does that."""
