"""The PySpark engine of `leadscore predict --engine spark`: it only reads and distributes; the scoring
itself is the pandas code of `features`, `models` and the batch core of `pipeline.scoring`. What it does
and how it differs from the pandas path: the docstring of `pipeline.spark.engine` (the entry)."""
