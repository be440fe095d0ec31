"""The error hierarchy: everything `dedupe` raises on purpose derives from `DedupeError`.

The CLI maps each class to a message and an exit code (`exit_code`); the library raises early,
with the offending value (file, row, column, model name) in the message.
"""

from __future__ import annotations


class DedupeError(Exception):
    """Root of every error `dedupe` raises on purpose."""

    exit_code = 1


class ConfigError(DedupeError):
    """A configuration, mapping or sources file is wrong."""


class UsageError(DedupeError):
    """The caller asked for something that cannot be done as asked (bad option values)."""

    exit_code = 2


class IngestError(DedupeError):
    """An input file cannot be read at all, or a mapping names a column the file lacks."""


class MappingError(IngestError):
    """A mapping names columns that a source file does not have (every missing one is listed)."""


class EncoderError(DedupeError):
    """An encoder cannot be loaded or fails to encode."""


class IndexError_(DedupeError):
    """Base for problems with a persisted index directory."""


class IndexNotFoundError(IndexError_):
    """No index exists at the given path."""


class IndexCorruptError(IndexError_):
    """An index file is missing, truncated or unreadable; the fix is to re-run ingest."""


class ModelMismatchError(IndexError_):
    """The index was built with another encoder than the one asked for."""


class IndexLockedError(IndexError_):
    """Another process is writing this index."""


class IndexWriteError(IndexError_):
    """Writing a new index generation failed (disk full, permissions); the old one is intact."""


class CalibrationError(DedupeError):
    """Labelled pairs cannot refit the scorer (too few, unknown ids, bad labels)."""


class ReviewStoreError(DedupeError):
    """The review database failed (wraps SQLAlchemy errors with the operation)."""


__all__ = [
    "CalibrationError",
    "ConfigError",
    "DedupeError",
    "EncoderError",
    "IndexCorruptError",
    "IndexError_",
    "IndexLockedError",
    "IndexWriteError",
    "IndexNotFoundError",
    "IngestError",
    "MappingError",
    "ModelMismatchError",
    "ReviewStoreError",
    "UsageError",
]
