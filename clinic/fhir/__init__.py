"""FHIR R4 (issue 16): pure mappers from KetaCare's records to FHIR resources; the read API at
/fhir/R4/ is built on them."""
