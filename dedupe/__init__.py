"""dedupe: find initiatives that duplicate or overlap across departments, and whom to call.

from dedupe import Detector, Proposal
Detector.ingest("indexes/gc", ["exports/finance.csv"], mapping="mappings.toml")
result = Detector.open("indexes/gc").check(Proposal(title="Learning management system"))
"""

from dedupe.detector import Detector
from dedupe.embed.encoder import Encoder, get_encoder
from dedupe.errors import (
    ConfigError,
    DedupeError,
    EncoderError,
    IndexCorruptError,
    IndexLockedError,
    IndexNotFoundError,
    IngestError,
    MappingError,
    ModelMismatchError,
    ReviewStoreError,
    UsageError,
)
from dedupe.records import (
    CheckResult,
    IngestSummary,
    Match,
    Owner,
    OwnerContact,
    Pair,
    Proposal,
    Reason,
    Record,
    RowProblem,
    Tier,
    pair_key,
)

__version__ = "0.1.0"

__all__ = [
    "CheckResult",
    "ConfigError",
    "DedupeError",
    "Detector",
    "Encoder",
    "EncoderError",
    "IndexCorruptError",
    "IndexLockedError",
    "IndexNotFoundError",
    "IngestError",
    "IngestSummary",
    "MappingError",
    "Match",
    "ModelMismatchError",
    "Owner",
    "OwnerContact",
    "Pair",
    "Proposal",
    "Reason",
    "Record",
    "ReviewStoreError",
    "RowProblem",
    "Tier",
    "UsageError",
    "__version__",
    "get_encoder",
    "pair_key",
]
