"""The ledger's API under /api/v1/ledger: reads (reads.py) and the writes the pages allow
(writes.py), on one router with one tag (common.py)."""

from clinic.controlled_substances.api import reads, writes
from clinic.controlled_substances.api.common import router

# Imported for the operations they add to the router.
__all__ = ["reads", "router", "writes"]
