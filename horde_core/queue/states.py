"""Named states of requests and jobs. Terminal states never change again."""

from __future__ import annotations

from sqlalchemy import literal_column

# Job states
WAITING = "waiting"
PROCESSING = "processing"
HELD = "held"  # finished by its worker, released once a safety scan has scored it
DONE = "done"
FAULTED = "faulted"
CANCELLED = "cancelled"
JOB_TERMINAL = frozenset({DONE, FAULTED, CANCELLED})

# Request states
ACTIVE = "active"
REQ_HELD = "held"  # finished by its worker, released once a safety scan has scored it
DONE = "done"
REQ_FAULTED = "faulted"
REQ_CANCELLED = "cancelled"
REQ_EXPIRED = "expired"
REQ_PRUNED = "pruned"
GONE = frozenset({REQ_EXPIRED, REQ_PRUNED})  # answer 404 RequestNotFound

# Written as SQL literals (not bound parameters) so the planners can use the partial
# index on waiting jobs, whose predicate is `state = 'waiting'`.
SQL_WAITING = literal_column("'waiting'")
SQL_PROCESSING = literal_column("'processing'")
