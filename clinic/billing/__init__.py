"""Billing: the codes a session earns, and (as issue 15 lands) diagnoses, coverage, prior
authorization, charges, claims and payments."""
