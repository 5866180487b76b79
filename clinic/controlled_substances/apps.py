from django.apps import AppConfig


class ControlledSubstancesConfig(AppConfig):
    name = "clinic.controlled_substances"
    label = "controlled_substances"
    verbose_name = "Controlled substances"

    def ready(self) -> None:
        from clinic.controlled_substances.integrity import (
            ledger_balances_check,
            ledger_locations_check,
        )
        from clinic.core.integrity import integrity_check_register

        integrity_check_register("ledger balances", ledger_balances_check)
        integrity_check_register("ledger locations", ledger_locations_check)
