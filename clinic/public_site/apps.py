from django.apps import AppConfig


class PublicSiteConfig(AppConfig):
    name = "clinic.public_site"
    label = "public_site"
    verbose_name = "Public site"
