import datetime

from clinic.patients.services import patient_create


def register(actor, **overrides):
    data = {
        "legal_given_name": "Jordan",
        "legal_family_name": "Rivera",
        "date_of_birth": datetime.date(1985, 4, 12),
        "sex": "female",
        "phone_mobile": "(555) 010-2233",
        "emergency_contact_name": "Sam Rivera",
        "emergency_contact_phone": "(555) 010-9988",
    }
    data.update(overrides)
    return patient_create(actor=actor, data=data)
