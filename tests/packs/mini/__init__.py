"""A small multi-level pack for the engine's tests.

    regions ─> customers ─> orders ─> order_items <─ products
                                  └─> shipments
    audit_notes (independent)

Failure and delay injection (for scheduling, failure and crash tests) come from
environment variables, which do not enter fingerprints:
``MINI_FAIL=orders`` makes a task raise; ``MINI_SLEEP=orders:2.5,products:1`` sleeps
between chunks; ``MINI_LEAVE_OUT=audit_notes`` leaves out a column whose default is now();
``MINI_BAD=products`` writes a price the table's CHECK constraint refuses.
"""

from seedgraph import Profile

from . import tasks
from .schema import METADATA

PARAMS = {"customers": 200}
PROFILES = [
    Profile("tiny", "a few rows", params={"customers": 20, "orders_per_customer": 2}),
    Profile("catalog", "products only", only="products"),
]
DEFAULT_PROFILE = None
