"""The PySpark engine of `leadscore predict --engine spark`: it only reads and distributes;
the scoring itself is the pandas code of `pipeline.scoring`."""
