"""Lead features, pure and point in time: sklearn-style builders from the leads and events frames (profile,
titles, quality flags, engagement from the event log, categories), their metadata, and every sentence a
salesperson reads about a feature or reason (wording.py). No I/O: pipeline/ reads and writes."""
