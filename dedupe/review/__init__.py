"""Review workflow: portfolio offices decide flagged pairs; decisions are kept in a database.

`store` (SQLAlchemy models, Alembic migrations, users, tokens, the decision audit trail) is plain
library code; `queue` joins the index's flagged pairs with the decisions; `app` is the web face.
"""

from dedupe.review.store import (
    Decision,
    PairDecisions,
    ReviewStore,
    Role,
    User,
    Verdict,
    default_db_url,
    open_store,
)

__all__ = [
    "Decision",
    "PairDecisions",
    "ReviewStore",
    "Role",
    "User",
    "Verdict",
    "default_db_url",
    "open_store",
]
