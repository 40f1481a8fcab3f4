"""The inputs of a scored batch checked against the model: leads columns it was trained with (an error),
event types it has no features for and category values it never saw (warnings, counted over the whole
batch and given once at the end). The model's answers come from `models.scorer`."""
from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import pandas as pd

from models.scorer import expected_columns, known_categories, known_event_types
from pipeline.errors import InputError

log = logging.getLogger(__name__)


class ChunkChecks:
    """Warnings about the inputs against the model (missing columns, unknown event types, unseen
    categories), added up over the chunks and given once at the end."""

    def __init__(self, scorer: Any, sources: dict[str, str]):
        self.sources = sources
        self.first = True
        self.unknown_types: Counter[str] = Counter()
        self.unseen: dict[str, Counter[str]] = {}
        self.expected = expected_columns(scorer)
        self.known = known_categories(scorer.model)
        self.event_types = known_event_types(scorer)

    def before(self, leads: pd.DataFrame, events: pd.DataFrame | None) -> None:
        """A chunk's inputs before features are built; the first chunk's also against the columns the
        model expects (missing ones are an error) and the events file (none: one warning)."""
        if self.first:
            require_columns(self.expected, leads, self.sources["leads"])
            if self.event_types is not None and "events" not in self.sources:
                log.warning("no --events file: the model uses engagement features, which will show no activity for any lead")
            self.first = False
        if self.event_types is not None and events is not None and len(events):
            counts = events["event_type"].value_counts()
            self.unknown_types.update(counts[~counts.index.isin(list(self.event_types))].to_dict())

    def after(self, table: pd.DataFrame) -> None:
        """A chunk's feature table: count the category values the model never saw."""
        for col, kept in self.known.items():
            if col in table.columns:
                values = table[col].astype(str)
                unseen = values[~values.isin(kept)]
                if len(unseen):
                    self.unseen.setdefault(col, Counter()).update(unseen.value_counts().to_dict())

    def detached(self) -> ChunkChecks:
        """An empty copy (small to pickle), for counting where the chunks are built (a Spark task);
        `merge` adds its counts back. It gives no first-chunk warnings."""
        copy = object.__new__(ChunkChecks)
        copy.sources, copy.first = self.sources, False
        copy.unknown_types, copy.unseen = Counter(), {}
        copy.expected, copy.known, copy.event_types = self.expected, self.known, self.event_types
        return copy

    def merge(self, other: ChunkChecks) -> None:
        """Add the counts of a detached copy."""
        self.unknown_types.update(other.unknown_types)
        for col, counts in other.unseen.items():
            self.unseen.setdefault(col, Counter()).update(counts)

    def warn(self) -> None:
        if self.unknown_types:
            top = self.unknown_types.most_common()
            shown = ", ".join(f"'{str(t)[:40]}' {n}" for t, n in top[:3])
            log.warning("%s: %d events of %d types the model has no features for count only in the activity totals (%s%s)",
                        self.sources.get("events"), sum(self.unknown_types.values()), len(top), shown,
                        ", ..." if len(top) > 3 else "")
        if self.unseen:
            total = sum(sum(c.values()) for c in self.unseen.values())
            parts = ["'{}' {} ({})".format(col, sum(c.values()),
                                           ", ".join(f"{str(v)[:30]!r} x{n}" for v, n in c.most_common(3)))
                     for col, c in self.unseen.items()]
            log.warning("%s: %d values not among the model's training categories are scored as 'other': %s%s",
                        self.sources["leads"], total, "; ".join(parts[:3]), "; ..." if len(parts) > 3 else "")


def require_columns(expected: list[str], leads: pd.DataFrame, source: str) -> None:
    """Every column the model was trained with is in the leads file: one missing would be scored as
    unknown for every lead and collapse the grades, so it is an error, not a warning (issue 13)."""
    missing = [c for c in expected if c not in leads.columns]
    if missing:
        raise InputError(
            f"{source}: missing {len(missing)} column{'s' if len(missing) > 1 else ''} the model was trained with: "
            f"{', '.join(repr(c) for c in missing[:3])}{', ...' if len(missing) > 3 else ''}; add "
            f"{'them' if len(missing) > 1 else 'it'} (empty cells are fine: they count as unknown) or retrain without")
