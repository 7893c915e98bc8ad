"""obshub schemas."""

from schemas.errors import SchemaError

__all__ = ["SchemaError"]
