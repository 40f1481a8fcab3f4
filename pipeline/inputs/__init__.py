"""Reading and checking what users give us: files (io), column contracts (contracts) and cell readers (cells),
whole-table and streamed (chunks) inputs, the training examples and the data readiness verdict."""
