"""The ledger's API under /api/v1/ledger: reads (reads.py), the writes the pages allow
(writes.py) and one container's ledger with its moves: return, transfer and reversal
(moves.py), on one router with one tag (common.py)."""

from clinic.controlled_substances.api import moves, reads, writes
from clinic.controlled_substances.api.common import router

# Imported for the operations they add to the router.
__all__ = ["moves", "reads", "router", "writes"]
