"""One session at the chair: the page a nurse runs from check-in to discharge and signing.

Every view is glue: check the capability, read the session through the selector, call one
service, and go back to the page (a redirect with a message) or show the page again with the
service's refusal next to the field it names. Forms post with htmx when it is there (the page's
<main> is swapped) and work the same without it. No patient data goes into URLs or logs.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from clinic.accounts.permissions import Capability
from clinic.assessments.selectors import unresolved_alerts_for_patient
from clinic.core.access import require, staff_required
from clinic.core.exceptions import Conflict, DomainError, InvalidInput, NotFound
from clinic.core.forms import apply_domain_error
from clinic.patients.choices import Sex
from clinic.screening.choices import Route
from clinic.treatment_sessions import selectors, services, state
from clinic.treatment_sessions.choices import (
    AlertAction,
    SessionPhase,
    SessionScoreKind,
)
from clinic.treatment_sessions.forms import (
    AddendumForm,
    AdverseEventForm,
    AlertAcknowledgeForm,
    DeviceForm,
    DischargeForm,
    DosingEndForm,
    EnteredInErrorForm,
    ImInjectionForm,
    InfusionPauseForm,
    InfusionRateForm,
    InfusionStartForm,
    InfusionStopForm,
    IntegrationNoteForm,
    NoteForm,
    PreCheckForm,
    ReasonForm,
    ScoreForm,
    SideEffectForm,
    VitalsForm,
    WasteForm,
    today_at,
)
from clinic.treatment_sessions.page import (
    SCORE_HINTS,
    SessionPage,
    note_draft_of,
    session_page,
    usable_containers,
)

PAGE = "treatment_sessions/session_detail.html"
# The service's names for a field the page calls otherwise.
RENAMED_FIELDS = {"weight_kg": "weight_today_kg"}
RECORD_KINDS = {"side-effect": "side_effects", "adverse-event": "adverse_events"}


# --------------------------------------------------------------------------- helpers


def _session(request, session_uuid, capability: str | None = None, *, audit: bool = False):
    """The session for a write (capability first, so a denial reads and writes nothing)."""
    if capability is not None:
        require(request.user, capability)
    return selectors.session_get(actor=request.user, session_uuid=session_uuid, audit=audit)


def _back(session, anchor: str = "", *, request=None):
    """Back to the page. Without JavaScript the browser lands on the form's section; with
    htmx the page is swapped in place and the nurse stays where she was (session.js), so no
    anchor: htmx would scroll to it."""
    url = reverse("treatment_sessions:detail", args=[session.uuid])
    if anchor and not (request is not None and request.htmx):
        url = f"{url}#{anchor}"
    return redirect(url)


def _refused(form, error: DomainError) -> None:
    """The service's refusal on the form (NotFound and PermissionDenied go to the error pages)."""
    if isinstance(error, InvalidInput):
        error = InvalidInput(
            {RENAMED_FIELDS.get(k, k): v for k, v in error.errors.items()}, error.message
        )
    apply_domain_error(form, error)


def _initial_precheck(session, portal_intention=None) -> dict:
    initial = {name: getattr(session, name) for name in state.PRECHECK_FIELDS}
    if portal_intention is not None and not session.intention.strip():
        # The patient's own words from the portal, until the session has its own.
        initial["intention"] = portal_intention.text
    return initial


def _row_forms(items, bound, key, make, used: set):
    rows = []
    for item in items:
        if (key, item.pk) in bound:
            used.add((key, item.pk))
        rows.append((item, bound[(key, item.pk)] if (key, item.pk) in bound else make(item)))
    return rows


def _context(request, session, bound: dict | None = None) -> dict:
    """The page: its view-model and each form the actor may use (a form bound with errors
    replaces the blank one)."""
    bound = bound or {}
    actor = request.user
    page: SessionPage = session_page(session, actor=actor, now=timezone.now())
    run = page.run
    open_run = run and session.is_open
    patient = session.patient
    context = {"page": page, "session": session, "patient": patient, "bound": bound}

    used: set = set()

    def form(key, make):
        if key in bound:
            used.add(key)
            return bound[key]
        return make()

    if open_run and page.is_checked_in:
        context["precheck_form"] = form(
            "precheck",
            lambda: PreCheckForm(
                prefix="pre",
                initial=_initial_precheck(session, page.portal_intention),
                route=session.route,
                flagged=page.suicidality_flagged,
                male=patient.sex == Sex.MALE,
            ),
        )
    if page.can_override and page.editable and page.is_checked_in:
        context["bp_form"] = form("bp", lambda: ReasonForm(prefix="bp"))
        context["override_form"] = form("override", lambda: ReasonForm(prefix="override"))
    if open_run and page.dosing_open:
        dose = page.dose.dose_mg
        if session.route == Route.IV and page.is_checked_in:
            context["start_form"] = form(
                "start",
                lambda: InfusionStartForm(
                    prefix="start", containers=page.containers, initial={"drawn_mg": dose}
                ),
            )
        if session.route == Route.IV and session.phase == SessionPhase.DOSING:
            # The planned dose is offered only once it can have run in; an infusion stopped
            # early is charted from the pump, never from the plan.
            given = (
                min(dose, session.infusion_drawn_mg)
                if dose is not None and page.infusion_complete
                else None
            )
            context["pause_form"] = form("pause", lambda: InfusionPauseForm(prefix="pause"))
            context["rate_form"] = form(
                "rate",
                lambda: InfusionRateForm(
                    prefix="rate", initial={"rate_ml_per_h": session.infusion_rate_ml_per_h}
                ),
            )
            context["infusion_stop_form"] = form(
                "infusion_stop",
                lambda: InfusionStopForm(
                    prefix="iv-stop",
                    actor=actor,
                    request=request,
                    initial={"given_mg": given},
                ),
            )
        if session.route == Route.IM and page.is_checked_in:
            context["im_form"] = form(
                "im",
                lambda: ImInjectionForm(
                    prefix="im",
                    containers=page.containers,
                    actor=actor,
                    request=request,
                    initial={"drawn_mg": dose, "given_mg": dose},
                ),
            )
        if session.route == Route.ESKETAMINE and page.devices and page.devices.next_number:
            context["device_form"] = form(
                "device", lambda: DeviceForm(prefix="device", containers=page.containers)
            )
            if session.phase == SessionPhase.DOSING:
                context["dosing_end_form"] = form(
                    "dosing_end", lambda: DosingEndForm(prefix="dosing-end")
                )
    if run:
        context["waste_rows"] = [
            (
                administration,
                outstanding,
                form(
                    ("waste", administration.pk),
                    lambda administration=administration: WasteForm(
                        prefix=f"waste-{administration.uuid}", actor=actor, request=request
                    ),
                ),
            )
            for administration, outstanding in page.residuals
        ]
        context["alert_rows"] = _row_forms(
            page.alerts_open,
            bound,
            "ack",
            lambda alert: AlertAcknowledgeForm(
                prefix=f"ack-{alert.uuid}",
                initial={"action": alert.recommendation or AlertAction.CONTINUE},
            ),
            used,
        )
        context["vitals_rows"] = _row_forms(
            page.vitals,
            bound,
            "vitals_error",
            lambda entry: EnteredInErrorForm(prefix=f"verr-{entry.uuid}"),
            used,
        )
        context["side_effect_rows"] = _row_forms(
            page.side_effects,
            bound,
            "record_error",
            lambda record: EnteredInErrorForm(prefix=f"rerr-{record.uuid}"),
            used,
        )
        context["adverse_event_rows"] = _row_forms(
            page.adverse_events,
            bound,
            "record_error",
            lambda record: EnteredInErrorForm(prefix=f"rerr-{record.uuid}"),
            used,
        )
    else:
        context["alert_rows"] = [(alert, None) for alert in page.alerts_open]
        context["vitals_rows"] = [(entry, None) for entry in page.vitals]
        context["side_effect_rows"] = [(record, None) for record in page.side_effects]
        context["adverse_event_rows"] = [(record, None) for record in page.adverse_events]
        context["waste_rows"] = [(a, outstanding, None) for a, outstanding in page.residuals]
    if open_run:
        context["vitals_form"] = form("vitals", lambda: VitalsForm(prefix="vitals"))
        context["score_forms"] = [
            (
                form(("score", kind), lambda kind=kind: ScoreForm(prefix=kind, kind=kind)),
                SCORE_HINTS[kind],
            )
            for kind in SessionScoreKind.values
        ]
        context["side_effect_form"] = form("side_effect", lambda: SideEffectForm(prefix="se"))
        context["stop_form"] = form("stop", lambda: ReasonForm(prefix="stop"))
    if run:
        context["adverse_event_form"] = form("adverse_event", lambda: AdverseEventForm(prefix="ae"))
    if open_run and page.in_aftercare:
        context["discharge_form"] = form(
            "discharge",
            lambda: DischargeForm(
                prefix="discharge",
                can_override=page.can_override,
                initial={"instructions_text": page.default_instructions},
            ),
        )
    if run:
        context["note_form"] = form(
            "note",
            lambda: NoteForm(
                prefix="note",
                initial={"text": session.nurse_note or note_draft_of(session, page)},
            ),
        )
    if page.can_run and session.is_signed:
        context["addendum_form"] = form("addendum", lambda: AddendumForm(prefix="addendum"))
    if page.can_integrate:
        context["integration_form"] = form(
            "integration", lambda: IntegrationNoteForm(prefix="integration")
        )
    for key, refused in bound.items():
        if key not in used:  # the form is no longer on the page (e.g. the record was signed)
            for errors in refused.errors.values():
                for error in errors:
                    messages.error(request, error)
    return context


def _page(request, session, bound: dict | None = None):
    return render(request, PAGE, _context(request, session, bound))


def _submit(request, session, *, key, form, call, done: str, anchor: str):
    """Validate, call the service, and go back to the page; or show the page with the errors."""
    if form.is_valid():
        try:
            call(form.cleaned_data)
        except (Conflict, InvalidInput) as error:
            _refused(form, error)
        else:
            messages.success(request, done)
            return _back(session, anchor, request=request)
    return _page(request, session, {key: form})


# --------------------------------------------------------------------------- the page


@staff_required
@require_GET
def detail(request, session_uuid):
    """The session page; its live header alone for the header's own refresh (htmx)."""
    live = bool(request.htmx) and request.htmx.target == "session-live"
    session = selectors.session_get(actor=request.user, session_uuid=session_uuid, audit=not live)
    if live:
        since = _since(request.GET.get("since"))
        page = session_page(session, actor=request.user, now=timezone.now(), since=since)
        return render(request, f"{PAGE}#live", {"page": page, "session": session, "since": since})
    return _page(request, session)


def _since(raw: str | None):
    """The page's first render, echoed back by the live bar's refresh; None if unreadable."""
    try:
        moment = datetime.datetime.fromisoformat(raw or "")
    except ValueError:
        return None
    return moment if timezone.is_aware(moment) else None


# --------------------------------------------------------------------------- pre-checks


@staff_required
@require_POST
def precheck(request, session_uuid):
    session = _session(request, session_uuid, Capability.SESSION_RUN)
    flagged = bool(unresolved_alerts_for_patient(patient=session.patient))
    form = PreCheckForm(
        request.POST,
        prefix="pre",
        route=session.route,
        flagged=flagged,
        male=session.patient.sex == Sex.MALE,
    )
    return _submit(
        request,
        session,
        key="precheck",
        form=form,
        call=lambda data: services.precheck_record(
            actor=request.user, session=session, data=form.service_data()
        ),
        done="Pre-checks saved.",
        anchor="pre-checks",
    )


# --------------------------------------------------------------------------- dosing


def _containers(session):
    return usable_containers(session.route, timezone.localdate())


def _witness_kwargs(data) -> dict:
    return {"witness": data.get("witness"), "waste_reason": data.get("waste_reason") or ""}


@staff_required
@require_POST
def infusion(request, session_uuid):
    """One endpoint for the infusion: `action` is start, pause, resume, rate or stop."""
    session = _session(request, session_uuid, Capability.SESSION_RUN)
    actor = request.user
    action = request.POST.get("action", "")
    if action == "start":
        return _submit(
            request,
            session,
            key="start",
            form=InfusionStartForm(request.POST, prefix="start", containers=_containers(session)),
            call=lambda data: services.infusion_start(
                actor=actor,
                session=session,
                container=data["container"],
                drawn_mg=data["drawn_mg"],
                rate_ml_per_h=data.get("rate_ml_per_h"),
            ),
            done="Infusion started.",
            anchor="dosing",
        )
    if action == "pause":
        return _submit(
            request,
            session,
            key="pause",
            form=InfusionPauseForm(request.POST, prefix="pause"),
            call=lambda data: services.infusion_pause(
                actor=actor, session=session, reason=data["reason"]
            ),
            done="Infusion paused.",
            anchor="dosing",
        )
    if action == "resume":
        try:
            services.infusion_resume(actor=actor, session=session)
        except (Conflict, InvalidInput) as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Infusion resumed.")
        return _back(session, "dosing", request=request)
    if action == "rate":
        return _submit(
            request,
            session,
            key="rate",
            form=InfusionRateForm(request.POST, prefix="rate"),
            call=lambda data: services.infusion_rate_change(
                actor=actor,
                session=session,
                rate_ml_per_h=data["rate_ml_per_h"],
                reason=data.get("reason") or "",
            ),
            done="Rate changed.",
            anchor="dosing",
        )
    if action == "stop":
        return _submit(
            request,
            session,
            key="infusion_stop",
            form=InfusionStopForm(request.POST, prefix="iv-stop", actor=actor, request=request),
            call=lambda data: services.infusion_stop(
                actor=actor,
                session=session,
                given_mg=data["given_mg"],
                reason=data.get("reason") or "",
                given_above_expected_reason=data.get("given_above_expected_reason") or "",
                **_witness_kwargs(data),
            ),
            done="Infusion stopped and recorded in the controlled-substance ledger.",
            anchor="dosing",
        )
    messages.error(request, "Choose start, pause, resume, rate or stop.")
    return _back(session, "dosing", request=request)


@staff_required
@require_POST
def im_injection(request, session_uuid):
    session = _session(request, session_uuid, Capability.SESSION_RUN)
    actor = request.user
    form = ImInjectionForm(
        request.POST, prefix="im", containers=_containers(session), actor=actor, request=request
    )
    return _submit(
        request,
        session,
        key="im",
        form=form,
        call=lambda data: services.im_injection_record(
            actor=actor,
            session=session,
            container=data["container"],
            drawn_mg=data["drawn_mg"],
            given_mg=data["given_mg"],
            site=data["site"],
            given_at=today_at(data.get("given_at")),
            **_witness_kwargs(data),
        ),
        done="Injection recorded in the controlled-substance ledger.",
        anchor="dosing",
    )


@staff_required
@require_POST
def device(request, session_uuid):
    session = _session(request, session_uuid, Capability.SESSION_RUN)
    number = len([a for a in session.administrations.all() if a.device_number is not None]) + 1
    return _submit(
        request,
        session,
        key="device",
        form=DeviceForm(request.POST, prefix="device", containers=_containers(session)),
        call=lambda data: services.esketamine_device_record(
            actor=request.user,
            session=session,
            container=data["container"],
            given_at=today_at(data.get("given_at")),
        ),
        done=f"Device {number} recorded in the controlled-substance ledger.",
        anchor="dosing",
    )


@staff_required
@require_POST
def waste(request, session_uuid, administration_uuid):
    session = _session(request, session_uuid, Capability.SESSION_RUN)
    administration = next(
        (a for a in session.administrations.all() if a.uuid == administration_uuid), None
    )
    if administration is None:
        raise NotFound("No such administration in this session.")
    form = WasteForm(
        request.POST, prefix=f"waste-{administration.uuid}", actor=request.user, request=request
    )
    return _submit(
        request,
        session,
        key=("waste", administration.pk),
        form=form,
        call=lambda data: services.residual_waste(
            actor=request.user,
            session=session,
            administration=administration,
            witness=data["witness"],
            reason=data.get("reason") or "",
        ),
        done="Residual wasted, witnessed.",
        anchor="dosing",
    )


# --------------------------------------------------------------------------- monitoring


@staff_required
@require_POST
def vitals(request, session_uuid):
    session = _session(request, session_uuid, Capability.SESSION_RUN)
    form = VitalsForm(request.POST, prefix="vitals")
    if form.is_valid():
        try:
            _entry, alerts = services.vitals_record(
                actor=request.user,
                session=session,
                taken_at=today_at(form.cleaned_data["taken_at"]),
                **form.values(),
            )
        except (Conflict, InvalidInput) as error:
            _refused(form, error)
        else:
            if alerts:
                # The alert itself is on the page; no clinical values in the message (it may
                # travel in a cookie).
                count = len(alerts)
                messages.warning(
                    request,
                    f"Vitals recorded with {count} alert{'s' if count > 1 else ''}: "
                    "acknowledge with an action.",
                )
                return _back(session, "alerts", request=request)
            messages.success(request, "Vitals recorded.")
            return _back(session, "flowsheet", request=request)
    return _page(request, session, {"vitals": form})


def _in_session(items, key):
    found = next((item for item in items if item.uuid == key), None)
    if found is None:
        raise NotFound("No such record in this session.")
    return found


@staff_required
@require_POST
def vitals_error(request, session_uuid, vitals_uuid):
    session = _session(request, session_uuid, Capability.SESSION_RUN)
    entry = _in_session(session.vitals.all(), vitals_uuid)
    return _submit(
        request,
        session,
        key=("vitals_error", entry.pk),
        form=EnteredInErrorForm(request.POST, prefix=f"verr-{entry.uuid}"),
        call=lambda data: services.vitals_mark_entered_in_error(
            actor=request.user, vitals=entry, reason=data["reason"]
        ),
        done="Reading marked entered in error.",
        anchor="flowsheet",
    )


@staff_required
@require_POST
def alert_acknowledge(request, session_uuid, alert_uuid):
    session = _session(request, session_uuid, Capability.SESSION_RUN)
    alert = _in_session(session.alerts.all(), alert_uuid)
    return _submit(
        request,
        session,
        key=("ack", alert.pk),
        form=AlertAcknowledgeForm(request.POST, prefix=f"ack-{alert.uuid}"),
        call=lambda data: services.session_alert_acknowledge(
            actor=request.user, alert=alert, action=data["action"], note=data.get("note") or ""
        ),
        done="Alert acknowledged.",
        anchor="alerts",
    )


@staff_required
@require_POST
def score(request, session_uuid):
    session = _session(request, session_uuid, Capability.SESSION_RUN)
    kind = request.POST.get("kind", "")
    if kind not in SessionScoreKind.values:
        messages.error(request, "Choose MOAA/S, CADSS or modified Aldrete.")
        return _back(session, "scores", request=request)
    form = ScoreForm(request.POST, prefix=kind, kind=kind)
    return _submit(
        request,
        session,
        key=("score", kind),
        form=form,
        call=lambda data: services.session_score_record(
            actor=request.user,
            session=session,
            kind=kind,
            answers=form.answers(),
            taken_at=today_at(data.get("taken_at")),
        ),
        done=f"{SessionScoreKind(kind).label} recorded.",
        anchor="scores",
    )


@staff_required
@require_POST
def side_effect(request, session_uuid):
    session = _session(request, session_uuid, Capability.SESSION_RUN)
    return _submit(
        request,
        session,
        key="side_effect",
        form=SideEffectForm(request.POST, prefix="se"),
        call=lambda data: services.side_effect_record(
            actor=request.user,
            session=session,
            kind=data["kind"],
            severity=data["severity"],
            other_text=data.get("other_text") or "",
            intervention=data.get("intervention") or "",
            noticed_at=today_at(data.get("noticed_at")),
        ),
        done="Side effect recorded.",
        anchor="side-effects",
    )


@staff_required
@require_POST
def adverse_event(request, session_uuid):
    session = _session(request, session_uuid, Capability.SESSION_RUN)
    return _submit(
        request,
        session,
        key="adverse_event",
        form=AdverseEventForm(request.POST, prefix="ae"),
        call=lambda data: services.adverse_event_record(
            actor=request.user,
            session=session,
            description=data["description"],
            seriousness=data["seriousness"],
            outcome=data["outcome"],
            action_taken=data.get("action_taken") or "",
            onset_at=today_at(data.get("onset_at")),
        ),
        done="Adverse event recorded.",
        anchor="side-effects",
    )


@staff_required
@require_POST
def record_error(request, session_uuid, kind, record_uuid):
    if kind not in RECORD_KINDS:
        raise NotFound()
    session = _session(request, session_uuid, Capability.SESSION_RUN)
    record = _in_session(getattr(session, RECORD_KINDS[kind]).all(), record_uuid)
    return _submit(
        request,
        session,
        key=("record_error", record.pk),
        form=EnteredInErrorForm(request.POST, prefix=f"rerr-{record.uuid}"),
        call=lambda data: services.session_record_mark_entered_in_error(
            actor=request.user, record=record, reason=data["reason"]
        ),
        done="Marked entered in error.",
        anchor="side-effects",
    )


# --------------------------------------------------------------------------- recovery, discharge


@staff_required
@require_POST
def recovery(request, session_uuid):
    session = _session(request, session_uuid, Capability.SESSION_RUN)
    try:
        services.recovery_start(actor=request.user, session=session)
    except (Conflict, InvalidInput) as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Recovery started.")
    return _back(session, "discharge", request=request)


@staff_required
@require_POST
def discharge(request, session_uuid):
    session = _session(request, session_uuid, Capability.SESSION_RUN)
    form = DischargeForm(
        request.POST,
        prefix="discharge",
        can_override=request.user.can(Capability.SESSION_OVERRIDE),
    )
    return _submit(
        request,
        session,
        key="discharge",
        form=form,
        call=lambda data: services.session_discharge(
            actor=request.user,
            session=session,
            escort_present=data["escort_present"],
            instructions_given=data["instructions_given"],
            instructions_text=data.get("instructions_text") or "",
            override_reason=data.get("override_reason") or "",
        ),
        done="Patient discharged.",
        anchor="discharge",
    )


# --------------------------------------------------------------------------- notes, signature


@staff_required
@require_POST
def sign(request, session_uuid):
    session = _session(request, session_uuid, Capability.SESSION_SIGN)
    try:
        services.session_sign(actor=request.user, session=session)
    except (Conflict, InvalidInput) as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Session record signed and locked.")
    return _back(session, "notes", request=request)


# --------------------------------------------------------------------------- one-field actions


def _one_field_action(*, capability, key, prefix, form, service, argument, done, anchor):
    """A POST whose form's one field is handed to a session service as `argument`."""

    @staff_required
    @require_POST
    def view(request, session_uuid):
        session = _session(request, session_uuid, capability)
        return _submit(
            request,
            session,
            key=key,
            form=form(request.POST, prefix=prefix),
            call=lambda data: service(
                actor=request.user, session=session, **{argument: data[argument]}
            ),
            done=done,
            anchor=anchor,
        )

    return view


bp_confirm = _one_field_action(
    capability=Capability.SESSION_OVERRIDE,
    key="bp",
    prefix="bp",
    form=ReasonForm,
    service=services.pre_dose_bp_confirm,
    argument="reason",
    done="Pre-dose blood pressure confirmed.",
    anchor="pre-checks",
)
override = _one_field_action(
    capability=Capability.SESSION_OVERRIDE,
    key="override",
    prefix="override",
    form=ReasonForm,
    service=services.precheck_override,
    argument="reason",
    done="Pre-checks overridden: dosing may start.",
    anchor="pre-checks",
)
# Esketamine: no more devices today; observation runs from the last one given.
dosing_end = _one_field_action(
    capability=Capability.SESSION_RUN,
    key="dosing_end",
    prefix="dosing-end",
    form=DosingEndForm,
    service=services.esketamine_dosing_end,
    argument="reason",
    done="Dosing ended: observation runs from the last device given.",
    anchor="dosing",
)
stop = _one_field_action(
    capability=Capability.SESSION_RUN,
    key="stop",
    prefix="stop",
    form=ReasonForm,
    service=services.session_stop,
    argument="reason",
    done="Session stopped.",
    anchor="notes",
)
note = _one_field_action(
    capability=Capability.SESSION_RUN,
    key="note",
    prefix="note",
    form=NoteForm,
    service=services.nurse_note_save,
    argument="text",
    done="Session note saved.",
    anchor="notes",
)
addendum = _one_field_action(
    capability=Capability.SESSION_RUN,
    key="addendum",
    prefix="addendum",
    form=AddendumForm,
    service=services.session_addendum_add,
    argument="text",
    done="Addendum added.",
    anchor="notes",
)
integration_note = _one_field_action(
    capability=Capability.SESSION_INTEGRATION_NOTE,
    key="integration",
    prefix="integration",
    form=IntegrationNoteForm,
    service=services.integration_note_add,
    argument="text",
    done="Integration note added.",
    anchor="integration",
)
