from django.urls import path

from clinic.controlled_substances import views

app_name = "controlled_substances"

urlpatterns = [
    path("", views.inventory, name="inventory"),
    path("receive/", views.receipt_create, name="receipt_create"),
    path("ledger/", views.ledger, name="ledger"),
    path("containers/<uuid:container_uuid>/", views.container_detail, name="container_detail"),
    path(
        "containers/<uuid:container_uuid>/administer/",
        views.container_administer,
        name="container_administer",
    ),
    path("containers/<uuid:container_uuid>/waste/", views.container_waste, name="container_waste"),
    path(
        "containers/<uuid:container_uuid>/return/", views.container_return, name="container_return"
    ),
    path(
        "containers/<uuid:container_uuid>/transfer/",
        views.container_transfer,
        name="container_transfer",
    ),
    path("entries/<uuid:entry_uuid>/reverse/", views.entry_reverse, name="entry_reverse"),
    path("counts/", views.counts, name="count_list"),
    path("counts/<uuid:count_uuid>/", views.count_detail, name="count_detail"),
    path(
        "discrepancies/<uuid:discrepancy_uuid>/resolve/",
        views.discrepancy_resolve,
        name="discrepancy_resolve",
    ),
    path("losses/", views.loss_reports, name="loss_reports"),
    path(
        "losses/<uuid:report_uuid>/notified/",
        views.loss_report_notified,
        name="loss_report_notified",
    ),
    path(
        "losses/<uuid:report_uuid>/form106/", views.loss_report_form106, name="loss_report_form106"
    ),
    path("exports/", views.export_list, name="export_list"),
    path("exports/<str:report>.<str:fmt>", views.export, name="export"),
]
