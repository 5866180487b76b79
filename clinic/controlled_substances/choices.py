"""Vocabularies of the controlled-substance records (Schedule III ketamine and esketamine)."""

from django.db import models

# Ketamine and esketamine are Schedule III (non-narcotic) [C1], [F1] (clinical-reference §10).
SCHEDULE_III = "III"


class Schedule(models.TextChoices):
    III = SCHEDULE_III, "Schedule III"


class ProductKind(models.TextChoices):
    RACEMIC_KETAMINE_VIAL = "racemic_ketamine_vial", "Racemic ketamine vial"
    ESKETAMINE_DEVICE = "esketamine_device", "Esketamine nasal device"


class ContainerStatus(models.TextChoices):
    IN_STOCK = "in_stock", "In stock (sealed)"
    IN_USE = "in_use", "In use (opened)"
    EMPTY = "empty", "Empty"
    RETURNED = "returned", "Returned"
    # Moved to another location of the network: a transfer out here, a receipt there.
    TRANSFERRED = "transferred", "Transferred to another location"
    DESTROYED = "destroyed", "Destroyed"


# Containers that are on hand: every count must include each of them.
ON_HAND_STATUSES = (ContainerStatus.IN_STOCK, ContainerStatus.IN_USE)


class EntryKind(models.TextChoices):
    RECEIPT = "receipt", "Receipt"
    ADMINISTRATION = "administration", "Administration"
    WASTE = "waste", "Waste"
    RETURN = "return", "Return"
    TRANSFER_OUT = "transfer_out", "Transfer out"
    ADJUSTMENT = "adjustment", "Adjustment"
    REVERSAL = "reversal", "Reversal"


class CountKind(models.TextChoices):
    DAILY = "daily", "Daily count"
    INITIAL = "initial", "Initial inventory"
    BIENNIAL = "biennial", "Biennial inventory"


# Initial and biennial inventories record whether they were taken at the opening or the
# close of business [J7].
INVENTORY_KINDS = (CountKind.INITIAL, CountKind.BIENNIAL)


class BusinessTime(models.TextChoices):
    OPENING = "opening", "Opening of business"
    CLOSE = "close", "Close of business"


class DiscrepancyStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class LossKind(models.TextChoices):
    THEFT = "theft", "Theft"
    SIGNIFICANT_LOSS = "significant_loss", "Significant loss"


class DeadlineState(models.TextChoices):
    DUE = "due", "Due"
    OVERDUE = "overdue", "Overdue"
    DONE = "done", "Done"
    DONE_LATE = "done_late", "Done late"
