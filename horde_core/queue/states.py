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
# A claim that timed out or failed: the job went back to the queue as a NEW job (a new id, like AI Horde's new
# processing generation), so a worker that tracks faults per id never sees the same id twice and a late
# submit of the old id answers AbortedGen. Not counted anywhere: the new job carries the work and its cost.
ABORTED = "aborted"
JOB_TERMINAL = frozenset({DONE, FAULTED, CANCELLED, ABORTED})

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
