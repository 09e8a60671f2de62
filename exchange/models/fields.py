"""A decimal column exact on every database the desk runs on."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper


class ExactDecimalField(models.DecimalField):  # type: ignore[type-arg]
    """numeric(p, s) on PostgreSQL; text on SQLite.

    SQLite keeps a decimal to about 15 significant digits (Django reads it back through a
    15-digit context), which would silently round ledger values carried to 40 places; as
    text it reads back to the digit. Only stored and read back: no SQL arithmetic on it.
    """

    def get_internal_type(self) -> str:
        return "ExactDecimalField"

    def db_type(self, connection: BaseDatabaseWrapper) -> str:
        if connection.vendor == "sqlite":
            return "text"
        return f"numeric({self.max_digits}, {self.decimal_places})"

    def get_db_prep_value(
        self, value: Any, connection: BaseDatabaseWrapper, prepared: bool = False
    ) -> Any:
        value = self.to_python(value)
        if value is None:
            return None
        return str(value) if connection.vendor == "sqlite" else value

    def from_db_value(
        self, value: Any, expression: Any, connection: BaseDatabaseWrapper
    ) -> Decimal | None:
        return None if value is None else Decimal(str(value))
