"""What the session tells the apps above it. `session_signed` is sent inside the signing
transaction, after the record is locked and hashed, with `session` and `actor`; a receiver
must not fail the signature (billing codes the charge under a savepoint and, when it cannot,
leaves the session in its queue)."""

from django.dispatch import Signal

session_signed = Signal()
