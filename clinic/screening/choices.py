"""Vocabularies from docs/clinical/screening-rules.md and calculators.md §3."""

from django.db import models


class Route(models.TextChoices):
    IV = "iv", "IV infusion"
    IM = "im", "IM injection"
    ESKETAMINE = "esketamine", "Esketamine nasal spray"
    SUBLINGUAL = "sublingual", "At-home sublingual"


class Indication(models.TextChoices):
    TREATMENT_RESISTANT_DEPRESSION = (
        "treatment_resistant_depression",
        "Treatment-resistant depression",
    )
    DEPRESSION_WITH_SUICIDAL_IDEATION = (
        "depression_with_suicidal_ideation",
        "Depression with acute suicidal ideation",
    )
    MAJOR_DEPRESSION = "major_depression", "Major depression"
    PTSD = "ptsd", "PTSD"
    GENERALIZED_ANXIETY = "generalized_anxiety", "Generalized anxiety"
    SOCIAL_ANXIETY = "social_anxiety", "Social anxiety"
    OCD = "ocd", "OCD"
    BIPOLAR_DEPRESSION = "bipolar_depression", "Bipolar depression"
    CHRONIC_PAIN = "chronic_pain", "Chronic pain"


class Condition(models.TextChoices):
    HYPERSENSITIVITY = "hypersensitivity", "Hypersensitivity to ketamine or esketamine"
    ANEURYSMAL_VASCULAR_DISEASE = "aneurysmal_vascular_disease", "Aneurysmal vascular disease"
    ARTERIOVENOUS_MALFORMATION = "arteriovenous_malformation", "Arteriovenous malformation"
    INTRACEREBRAL_HEMORRHAGE = "intracerebral_hemorrhage", "History of intracerebral haemorrhage"
    UNCONTROLLED_HYPERTENSION = "uncontrolled_hypertension", "Uncontrolled hypertension"
    CARDIAC_DISEASE = "cardiac_disease", "Significant cardiovascular disease"
    ACTIVE_PSYCHOSIS = "active_psychosis", "Current psychotic symptoms"
    PSYCHOSIS_HISTORY = "psychosis_history", "Past psychosis or schizophrenia-spectrum disorder"
    MANIA_HISTORY = "mania_history", "Bipolar disorder or past mania"
    SUBSTANCE_USE_DISORDER = (
        "substance_use_disorder",
        "Substance use disorder or ketamine/PCP misuse",
    )
    RAISED_INTRACRANIAL_PRESSURE = "raised_intracranial_pressure", "Raised intracranial pressure"
    RAISED_INTRAOCULAR_PRESSURE = "raised_intraocular_pressure", "Raised intraocular pressure"
    HEPATIC_IMPAIRMENT_MODERATE = "hepatic_impairment_moderate", "Hepatic impairment, Child-Pugh B"
    HEPATIC_IMPAIRMENT_SEVERE = "hepatic_impairment_severe", "Hepatic impairment, Child-Pugh C"
    HYPERTHYROIDISM_UNTREATED = "hyperthyroidism_untreated", "Untreated hyperthyroidism"
    BLADDER_SYMPTOMS = "bladder_symptoms", "Interstitial cystitis or lower urinary tract symptoms"


class MedicationClass(models.TextChoices):
    BENZODIAZEPINE = "benzodiazepine", "Benzodiazepine"
    OPIOID = "opioid", "Opioid"
    SEDATIVE_HYPNOTIC = "sedative_hypnotic", "Non-benzodiazepine hypnotic"
    CNS_DEPRESSANT = "cns_depressant", "Other CNS depressant"
    MAOI = "maoi", "MAOI"
    PSYCHOSTIMULANT = "psychostimulant", "Psychostimulant"
    LAMOTRIGINE = "lamotrigine", "Lamotrigine"
    OTHER = "other", "Other"


class TrialOutcome(models.TextChoices):
    NO_RESPONSE = "no_response", "No response"
    PARTIAL_RESPONSE = "partial_response", "Partial response"
    RESPONSE = "response", "Response"
    INTOLERANCE = "intolerance", "Stopped for side effects"


class ConsultationStatus(models.TextChoices):
    NEW = "new", "New"
    CONTACTED = "contacted", "Contacted"
    BOOKED = "booked", "Booked"
    DECLINED = "declined", "Declined"


class ContactMethod(models.TextChoices):
    PHONE = "phone", "Phone call"
    TEXT = "text", "Text message"
    EMAIL = "email", "E-mail"


class IntakeStatus(models.TextChoices):
    DRAFT = "draft", "In progress"
    SUBMITTED = "submitted", "Submitted"


class DecisionOutcome(models.TextChoices):
    ELIGIBLE = "eligible", "Eligible for the chosen routes"
    INELIGIBLE = "ineligible", "Not eligible"
    DEFERRED = "deferred", "Deferred"


class SeekingHelp(models.TextChoices):
    """What a person asks about: the conditions the clinic treats (seed facts), in plain
    words. The values follow `Indication` where one exists, so intake can start from them."""

    TREATMENT_RESISTANT_DEPRESSION = (
        "treatment_resistant_depression",
        "Depression that has not improved with treatment",
    )
    SUICIDAL_THOUGHTS = "depression_with_suicidal_ideation", "Depression with suicidal thoughts"
    PTSD = "ptsd", "PTSD (post-traumatic stress)"
    GENERALIZED_ANXIETY = "generalized_anxiety", "Generalized anxiety"
    SOCIAL_ANXIETY = "social_anxiety", "Social anxiety"
    CHRONIC_PAIN = "chronic_pain", "Chronic pain (CRPS, fibromyalgia, nerve pain)"
    OCD = "ocd", "OCD (obsessive-compulsive disorder)"
    BIPOLAR_DEPRESSION = "bipolar_depression", "Bipolar depression"
    NOT_SURE = "not_sure", "Not sure yet"


def seeking_help_label(value: str) -> str:
    try:
        return SeekingHelp(value).label
    except ValueError:
        return value
