"""Controlled-substance pages: parse, call a selector or service, render. Every page checks the
capability (selectors and services check it again) and every read is audited.

Each location is its own registrant with its own ledger: the list pages show one location's
records, the actor's current location by default or `?location=<uuid>` (refused when the
actor does not work there); a record's own page shows it only to those who work at its
location. The clinic administrator picks any location and sees the network's stock."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clinic.accounts.permissions import Capability
from clinic.controlled_substances import exports, selectors, services
from clinic.controlled_substances.choices import ContainerStatus
from clinic.controlled_substances.forms import (
    AdministrationForm,
    CountForm,
    DoneForm,
    LedgerFilterForm,
    LossReportForm,
    ProductForm,
    ReasonForm,
    ReceiptForm,
    ResolveForm,
    ReturnForm,
    TransferForm,
    WasteForm,
)
from clinic.core.access import require, staff_required
from clinic.core.exceptions import DomainError
from clinic.core.forms import apply_domain_error
from clinic.locations.models import Location
from clinic.locations.selectors import sees_network
from clinic.patients.models import Patient


def _can(request, capability: Capability) -> bool:
    return request.user.can(capability)


def _location(request) -> Location:
    """The location whose ledger the page shows: `?location=<uuid>` when given (refused unless
    the actor works there, or sees the network), else the actor's current location."""
    return selectors.ledger_location(request.user, request.GET.get("location") or None)


def _at(name: str, location: Location, **kwargs) -> HttpResponseRedirect:
    """A redirect to a list page of `location`."""
    return HttpResponseRedirect(
        f"{reverse(f'controlled_substances:{name}', kwargs=kwargs)}?location={location.uuid}"
    )


def _render(request, template: str, context: dict, status: int = 200, location=None, switch=True):
    """Render with the section's navigation flags (what the actor may open) and the location
    shown, with the locations the actor may switch to when there are several (on list pages,
    `switch`)."""
    context["cs_can"] = {
        "receive": _can(request, Capability.LEDGER_RECEIVE),
        "export": _can(request, Capability.LEDGER_EXPORT),
    }
    if location is not None:
        choices = (
            list(selectors.ledger_locations(request.user).order_by("name", "id")) if switch else []
        )
        context["cs_location"] = location
        context["cs_locations"] = choices if len(choices) > 1 else []
    return render(request, template, context, status=status)


# --------------------------------------------------------------------------- inventory


@staff_required
@require_http_methods(["GET", "POST"])
def inventory(request):
    """Products, lots and containers with their balances; add a product."""
    require(request.user, Capability.LEDGER_VIEW)
    location = _location(request)
    form = ProductForm(prefix="product")
    if request.method == "POST":
        require(request.user, Capability.LEDGER_RECEIVE)
        form = ProductForm(request.POST, prefix="product")
        if form.is_valid():
            try:
                product = services.product_create(actor=request.user, **form.cleaned_data)
            except DomainError as error:
                apply_domain_error(form, error)
            else:
                messages.success(request, f"{product.name} added.")
                return _at("inventory", location)
    show_all = request.GET.get("show") == "all"
    context = {
        "inventory": selectors.inventory_get(
            actor=request.user, include_finished=show_all, location=location
        ),
        "network": (
            selectors.network_summary(actor=request.user) if sees_network(request.user) else None
        ),
        "show_all": show_all,
        "product_form": form,
        "can_receive": _can(request, Capability.LEDGER_RECEIVE),
    }
    return _render(request, "controlled_substances/inventory.html", context, location=location)


@staff_required
@require_http_methods(["GET", "POST"])
def receipt_create(request):
    require(request.user, Capability.LEDGER_RECEIVE)
    location = _location(request)
    form = ReceiptForm(request.POST or None, actor=request.user, request=request, location=location)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            receipt = services.receipt_record(
                actor=request.user,
                product=data["product"],
                supplier=data["supplier"],
                supplier_address=data["supplier_address"],
                supplier_dea_number=data["supplier_dea_number"],
                invoice=data["invoice"],
                lot_number=data["lot_number"],
                expiry=data["expiry"],
                containers=data["containers"],
                witness=data.get("witness"),
                received_at=form.received_at,
                location=location,
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(
                request,
                f"Received {receipt.container_count} × {receipt.product.name}, lot "
                f"{receipt.lot.lot_number}, at {location.name}.",
            )
            return _at("inventory", location)
    return _render(
        request, "controlled_substances/receipt_form.html", {"form": form}, location=location
    )


# --------------------------------------------------------------------------- ledgers


@staff_required
@require_GET
def ledger(request):
    """One location's ledger:
    /controlled-substances/ledger/?location=&date_from=&date_to=&product=&kind="""
    require(request.user, Capability.LEDGER_VIEW)
    location = _location(request)
    form = LedgerFilterForm(request.GET or None)
    period = form.period() if form.is_bound else selectors.Period()
    kind = form.cleaned_data.get("kind", "") if form.is_bound and form.is_valid() else ""
    page = selectors.ledger_page(
        actor=request.user,
        period=period,
        kind=kind,
        page_number=request.GET.get("page", 1),
        location=location,
    )
    query = request.GET.copy()
    query.pop("page", None)
    query["location"] = str(location.uuid)
    context = {"form": form, "ledger": page, "query": query.urlencode()}
    return _render(request, "controlled_substances/ledger_list.html", context, location=location)


def _container_page(request, container, *, status=200, **forms):
    actor = request.user
    ledger = selectors.container_ledger(actor=actor, container=container)
    can_record = _can(request, Capability.LEDGER_RECORD)
    if can_record:
        forms.setdefault("administration_form", AdministrationForm(prefix="give"))
        forms.setdefault(
            "waste_form",
            WasteForm(
                prefix="waste",
                actor=actor,
                request=request,
                awaiting=ledger.awaiting_waste,
                location=container.location,
            ),
        )
    if _can(request, Capability.LEDGER_RECEIVE):
        forms.setdefault("return_form", ReturnForm(prefix="return"))
        transfer = forms.get("transfer_form") or TransferForm(
            prefix="transfer", actor=actor, container=container
        )
        # Offered for a sealed container, when there is another location to send it to.
        sealed = (
            container.status == ContainerStatus.IN_STOCK
            and container.balance_mg == container.content_mg
        )
        if sealed and transfer.fields["to_location"].queryset.exists():
            forms["transfer_form"] = transfer
    reversible_kinds = [
        kind
        for kind, capability in services.REVERSE_CAPABILITY.items()
        if _can(request, capability)
    ]
    context = {
        "container": container,
        "ledger": ledger,
        "reversible_kinds": reversible_kinds,
        "can_record": can_record,
        "can_receive": _can(request, Capability.LEDGER_RECEIVE),
        "reverse_form": ReasonForm(prefix="reverse"),
        **forms,
    }
    return _render(
        request,
        "controlled_substances/container_detail.html",
        context,
        status,
        location=container.location,
        switch=False,
    )


@staff_required
@require_GET
def container_detail(request, container_uuid):
    container = selectors.container_get(actor=request.user, container_uuid=container_uuid)
    return _container_page(request, container)


def _back_to(container):
    return redirect("controlled_substances:container_detail", container_uuid=container.uuid)


@staff_required
@require_POST
def container_administer(request, container_uuid):
    require(request.user, Capability.LEDGER_RECORD)
    container = selectors.container_get(actor=request.user, container_uuid=container_uuid)
    form = AdministrationForm(request.POST, prefix="give")
    if form.is_valid():
        data = form.cleaned_data
        # An MRN out of the actor's reach reads exactly like one that does not exist.
        patient = (
            Patient.objects.visible_to(request.user).filter(mrn=data["patient_mrn"].strip()).first()
        )
        if patient is None:
            form.add_error("patient_mrn", "No patient on your care team has that MRN.")
        else:
            try:
                services.administration_record(
                    actor=request.user,
                    container=container,
                    patient=patient,
                    drawn_mg=data["drawn_mg"],
                    given_mg=data["given_mg"],
                    session_ref=data["session_ref"],
                )
            except DomainError as error:
                apply_domain_error(form, error)
            else:
                messages.success(request, "Administration recorded.")
                return _back_to(container)
    return _container_page(request, container, administration_form=form)


@staff_required
@require_POST
def container_waste(request, container_uuid):
    require(request.user, Capability.LEDGER_RECORD)
    actor = request.user
    container = selectors.container_get(actor=actor, container_uuid=container_uuid)
    awaiting = selectors.awaiting_waste(actor=actor, container=container)
    form = WasteForm(
        request.POST,
        prefix="waste",
        actor=actor,
        request=request,
        awaiting=awaiting,
        location=container.location,
    )
    if form.is_valid():
        data = form.cleaned_data
        administration = next(
            (row.entry for row in awaiting if str(row.entry.uuid) == data["administration"]), None
        )
        try:
            services.waste_record(
                actor=actor,
                container=container,
                quantity_mg=data["quantity_mg"],
                witness=data["witness"],
                reason=data["reason"],
                administration=administration,
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, "Waste recorded.")
            return _back_to(container)
    return _container_page(request, container, waste_form=form)


@staff_required
@require_POST
def container_return(request, container_uuid):
    require(request.user, Capability.LEDGER_RECEIVE)
    container = selectors.container_get(actor=request.user, container_uuid=container_uuid)
    form = ReturnForm(request.POST, prefix="return")
    if form.is_valid():
        try:
            services.container_return(actor=request.user, container=container, **form.cleaned_data)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, f"{container.label} returned.")
            return _back_to(container)
    return _container_page(request, container, return_form=form)


@staff_required
@require_POST
def container_transfer(request, container_uuid):
    """Send a sealed container to another location: a transfer out here, a receipt there."""
    require(request.user, Capability.LEDGER_RECEIVE)
    container = selectors.container_get(actor=request.user, container_uuid=container_uuid)
    form = TransferForm(request.POST, prefix="transfer", actor=request.user, container=container)
    if form.is_valid():
        try:
            receipt = services.container_transfer(
                actor=request.user,
                container=container,
                to_location=form.cleaned_data["to_location"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, f"{container.label} transferred to {receipt.location.name}.")
            return _at("inventory", container.location)
    return _container_page(request, container, status=200, transfer_form=form)


@staff_required
@require_POST
def entry_reverse(request, entry_uuid):
    require(request.user, Capability.LEDGER_VIEW)
    entry = selectors.entry_get(actor=request.user, entry_uuid=entry_uuid)
    form = ReasonForm(request.POST, prefix="reverse")
    if form.is_valid():
        try:
            services.entry_reverse(
                actor=request.user, entry=entry, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            if error.status in (403, 404):
                raise
            messages.error(request, error.message)
        else:
            messages.success(request, "Entry reversed.")
    else:
        messages.error(request, "Give a reason for the reversal.")
    return _back_to(entry.container)


# --------------------------------------------------------------------------- counts


@staff_required
@require_http_methods(["GET", "POST"])
def counts(request):
    """Record a count of every container on hand; recent counts; open discrepancies."""
    actor = request.user
    require(actor, Capability.LEDGER_VIEW)
    if request.method == "POST":
        require(actor, Capability.LEDGER_COUNT)
    location = _location(request)
    overview = selectors.count_overview(actor=actor, location=location)
    form = CountForm(
        request.POST or None,
        actor=actor,
        request=request,
        containers=overview.containers,
        location=location,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            count = services.count_record(
                actor=actor,
                kind=data["kind"],
                lines=form.lines(),
                witness=data.get("witness"),
                taken_at=data["taken_at"],
                note=data["note"],
                location=location,
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            found = sum(1 for line in count.lines.all() if line.difference_mg)
            if found:
                messages.error(request, f"Count recorded with {found} discrepancy(ies).")
            else:
                messages.success(request, "Count recorded: every container matches the book.")
            return redirect("controlled_substances:count_detail", count_uuid=count.uuid)
    context = {
        "overview": overview,
        "form": form,
        "can_count": _can(request, Capability.LEDGER_COUNT),
        "can_reconcile": _can(request, Capability.LEDGER_RECONCILE),
        "resolve_form": ResolveForm(prefix="resolve"),
    }
    return _render(request, "controlled_substances/count_list.html", context, location=location)


@staff_required
@require_GET
def count_detail(request, count_uuid):
    count, lines = selectors.count_get(actor=request.user, count_uuid=count_uuid)
    context = {
        "count": count,
        "lines": lines,
        "can_reconcile": _can(request, Capability.LEDGER_RECONCILE),
        "resolve_form": ResolveForm(prefix="resolve"),
    }
    return _render(
        request,
        "controlled_substances/count_detail.html",
        context,
        location=count.location,
        switch=False,
    )


@staff_required
@require_POST
def discrepancy_resolve(request, discrepancy_uuid):
    require(request.user, Capability.LEDGER_RECONCILE)
    discrepancy = selectors.discrepancy_get(actor=request.user, discrepancy_uuid=discrepancy_uuid)
    form = ResolveForm(request.POST, prefix="resolve")
    if form.is_valid():
        try:
            services.discrepancy_resolve(
                actor=request.user, discrepancy=discrepancy, **form.cleaned_data
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Discrepancy resolved.")
    else:
        messages.error(request, "Give the reason the count differed.")
    return redirect("controlled_substances:count_detail", count_uuid=discrepancy.line.count.uuid)


# --------------------------------------------------------------------------- theft and loss


@staff_required
@require_http_methods(["GET", "POST"])
def loss_reports(request):
    actor = request.user
    require(actor, Capability.LEDGER_VIEW)
    location = _location(request)
    form = LossReportForm(prefix="loss")
    if request.method == "POST":
        require(actor, Capability.LEDGER_REPORT_LOSS)
        form = LossReportForm(request.POST, prefix="loss")
        if form.is_valid():
            data = form.cleaned_data
            try:
                report = services.loss_report_create(
                    actor=actor,
                    kind=data["kind"],
                    discovered_at=form.discovered_at,
                    description=data["description"],
                    product=data["product"],
                    quantity_mg=data["quantity_mg"],
                    location=location,
                )
            except DomainError as error:
                apply_domain_error(form, error)
            else:
                messages.success(
                    request,
                    f"Reported. Notify the DEA in writing by {report.dea_notice_due_on:%A %m/%d/%Y}"
                    f"; file Form 106 by {report.form106_due_on:%m/%d/%Y}.",
                )
                return _at("loss_reports", location)
    context = {
        "rows": selectors.loss_report_list(actor=actor, location=location),
        "form": form,
        "done_form": DoneForm(prefix="done"),
        "can_report": _can(request, Capability.LEDGER_REPORT_LOSS),
    }
    return _render(
        request, "controlled_substances/loss_report_list.html", context, location=location
    )


def _loss_step(request, report_uuid, *, step: str):
    require(request.user, Capability.LEDGER_REPORT_LOSS)
    report = selectors.loss_report_get(actor=request.user, report_uuid=report_uuid)
    form = DoneForm(request.POST, prefix="done")
    if form.is_valid():
        try:
            if step == "notified":
                services.loss_report_mark_notified(
                    actor=request.user, report=report, notified_at=form.done_at
                )
            else:
                services.loss_report_mark_form106(
                    actor=request.user,
                    report=report,
                    submitted_at=form.done_at,
                    reference=form.cleaned_data["reference"],
                )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Recorded.")
    else:
        messages.error(request, "Give a valid date and time.")
    return _at("loss_reports", report.location)


@staff_required
@require_POST
def loss_report_notified(request, report_uuid):
    return _loss_step(request, report_uuid, step="notified")


@staff_required
@require_POST
def loss_report_form106(request, report_uuid):
    return _loss_step(request, report_uuid, step="form106")


# --------------------------------------------------------------------------- exports


@staff_required
@require_GET
def export_list(request):
    require(request.user, Capability.LEDGER_EXPORT)
    location = _location(request)
    form = LedgerFilterForm(request.GET or None)
    form.fields.pop("kind")
    query = request.GET.copy()
    query["location"] = str(location.uuid)
    links = [
        (
            title,
            [
                (
                    fmt.upper(),
                    f"{reverse('controlled_substances:export', args=[key, fmt])}"
                    + (f"?{query.urlencode()}" if query else ""),
                )
                for fmt in exports.FORMATS
            ],
        )
        for key, title in EXPORT_TITLES
        if key != "administrations-named" or request.user.can(Capability.LEDGER_EXPORT_NAMED)
    ]
    return _render(
        request,
        "controlled_substances/exports.html",
        {"form": form, "links": links},
        location=location,
    )


EXPORT_TITLES = [
    ("receipts", "Receipts"),
    ("administrations", "Administration and waste log (patients by MRN)"),
    ("administrations-named", "Administration and waste log with names and addresses (DEA)"),
    ("inventories", "Counts and inventories"),
]


@staff_required
@require_GET
def export(request, report, fmt):
    require(request.user, Capability.LEDGER_EXPORT)
    if report not in exports.REPORTS or fmt not in exports.FORMATS:
        raise Http404()
    location = _location(request)
    form = LedgerFilterForm(request.GET or None)
    period = form.period() if form.is_bound else selectors.Period()
    built = exports.export_build(
        actor=request.user, report_key=report, fmt=fmt, period=period, location=location
    )
    response = HttpResponse(built.content, content_type=built.content_type)
    response["Content-Disposition"] = f'attachment; filename="{built.filename}"'
    return response
