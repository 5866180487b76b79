"""What every request body of the JSON API shares, and the one error envelope's schema.

In core so that every app's api.py can use them (clinic.api is the top layer; the apps' routers
sit below it). A body field the contract does not have is refused, never ignored: a misspelt
field would otherwise fall back to a default, and a PUT whose fields all went unrecognised
would replace a record with nothing. A body that is not a JSON object is refused too.

- `RequestBody`: the base of every body schema (`payload: SomeSchema`).
- `StrictBody[...]`: for operations whose body fields are separate parameters (so an error names
  the field as ["body", "<field>"]): the same refusals for the model Ninja builds from them.
Both answer 422 `{"detail": [{"loc", "msg", "type"}], "code": "invalid_input"}`, with
`"Unknown field."` / `extra_forbidden` for a field the contract does not have.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ninja import Schema
from ninja.errors import ValidationError
from ninja.params.models import Body as _BodyParam
from ninja.params.models import BodyModel
from ninja.schema import DjangoGetter
from pydantic import ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

UNKNOWN_FIELD = "Unknown field."
NOT_AN_OBJECT = "The body must be a JSON object."
OBJECT_EXPECTED = "A JSON object is expected."


class RequestBody(Schema):
    """Base of every request body schema: unknown fields and non-objects are refused."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _json_object(cls, data: Any) -> Any:
        # Ninja's Schema would otherwise read a list, a string or null as an object with no
        # fields: a PATCH of `[1, 2, 3]` would pass as "nothing changes". (Ninja validates
        # twice, the second time with the data wrapped in its DjangoGetter.)
        raw = data._obj if isinstance(data, DjangoGetter) else data
        if not isinstance(raw, dict):
            raise PydanticCustomError("dict_type", OBJECT_EXPECTED)
        return data


class _StrictBodyModel(BodyModel):
    model_config = ConfigDict(extra="forbid")

    @classmethod
    def get_request_data(cls, request, api, path_params):
        data = super().get_request_data(request, api, path_params)
        # An empty body is "no fields"; `null`, a list or a scalar is not an object.
        if request.body and not isinstance(data, dict):
            raise ValidationError([{"loc": ["body"], "msg": NOT_AN_OBJECT, "type": "dict_type"}])
        return data


class _StrictBodyParam(_BodyParam):  # type: ignore[misc]
    _model = _StrictBodyModel

    @classmethod
    def _param_source(cls) -> str:
        return "body"


class _SelfCheckedBodyModel(BodyModel):
    # Unknown fields reach the handler, which names them together with its other problems;
    # the published schema refuses them all the same.
    model_config = ConfigDict(json_schema_extra={"additionalProperties": False})


class _SelfCheckedBodyParam(_BodyParam):  # type: ignore[misc]
    _model = _SelfCheckedBodyModel

    @classmethod
    def _param_source(cls) -> str:
        return "body"


class _BodyShortcut:
    def __init__(self, param: type[_BodyParam]) -> None:
        self.param = param

    def __getitem__(self, annotation: Any) -> Any:
        from typing import Annotated

        return Annotated[annotation, self.param(...)]


if TYPE_CHECKING:  # mypy reads them as Ninja's Body
    from ninja import Body as SelfCheckedBody
    from ninja import Body as StrictBody
else:
    StrictBody = _BodyShortcut(_StrictBodyParam)
    # For an operation that must name an unknown field together with every other problem of
    # the request (the screening evaluation, calculators.md §3): it refuses them itself.
    SelfCheckedBody = _BodyShortcut(_SelfCheckedBodyParam)


def forbids_unknown_fields(model: type) -> bool:
    """True if `model` refuses fields it does not declare (the API contract test uses it)."""
    return getattr(model, "model_config", {}).get("extra") == "forbid"


# --------------------------------------------------------------------------- error envelope


class InputProblem(Schema):
    loc: list[str | int] = Field(description='["body", "<field>", ...]')
    msg: str
    type: str


class ApiError(Schema):
    """The API's one error envelope (clinic/api/errors.py): a message, or for invalid input
    a list of problems each naming its field."""

    detail: str | list[InputProblem]
    code: str
    field: str | None = Field(None, description="the input at fault, when one is")
