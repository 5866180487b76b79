"""Fixtures the screening page tests share (`patient` is the project's, in conftest.py)."""

from __future__ import annotations

import pytest

from clinic.screening import services
from clinic.screening.tests.test_eligibility import TRD_HISTORY


@pytest.fixture
def submitted(patient, nurse):
    intake = services.intake_start(actor=nurse, patient=patient)
    return services.intake_save(actor=nurse, intake=intake, submit=True, **TRD_HISTORY)
