"""The published API contract: the committed OpenAPI document must match what the code serves.

After an intended API change, regenerate it with
`DEBUG=1 uv run python manage.py export_openapi > docs/openapi.json` and review the diff.
"""

import json
from pathlib import Path

from django.core.management import call_command

COMMITTED = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"


def test_served_openapi_matches_the_committed_document(client, capsys):
    served = client.get("/api/v1/openapi.json")
    assert served.status_code == 200
    call_command("export_openapi")
    exported = json.loads(capsys.readouterr().out)
    assert served.json() == exported
    assert exported == json.loads(COMMITTED.read_text()), (
        "The API changed: regenerate docs/openapi.json (see this module's docstring)."
    )
