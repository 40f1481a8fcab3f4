"""Everything with I/O: the config, input files and their contracts (inputs/), one module per CLI command
(stages/), batch scoring shared by both engines (scoring/), the Spark engine (spark/), MLflow tracking,
fitting, fingerprints, the sample-world generator (sampleworld/) and the CLI."""
