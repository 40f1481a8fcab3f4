"""Reading and checking what users give us: files (io), column contracts, whole-table and streamed
(chunks) inputs, the training examples and the data readiness verdict."""
