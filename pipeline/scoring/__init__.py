"""Batch scoring shared by both engines: drift of a scored batch (and the batch core)."""
