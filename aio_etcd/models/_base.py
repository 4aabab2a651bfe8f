"""The base every model shares: one config, and dict-style reads for older code."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class EtcdModel(BaseModel):
    """A validated etcd object.

    Older clients returned plain dicts for some calls, so ``model['clientURLs']`` and
    ``model.get('cause')`` keep working: both accept the wire (camelCase) name or the
    Python field name.
    """

    model_config = ConfigDict(
        populate_by_name=True,
        extra="ignore",
        validate_default=False,
        ser_json_timedelta="float",
    )

    def __getitem__(self, name: str) -> Any:
        field = _field_for(type(self), name)
        if field is None:
            raise KeyError(name)
        return getattr(self, field)

    def get(self, name: str, default: Any = None) -> Any:
        """The value of field ``name`` (wire or Python spelling), or ``default``."""
        field = _field_for(type(self), name)
        return default if field is None else getattr(self, field)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and _field_for(type(self), name) is not None


def _field_for(model: type[BaseModel], name: str) -> str | None:
    fields = model.model_fields
    if name in fields:
        return name
    for field_name, info in fields.items():
        if info.alias == name:
            return field_name
    return None
