"""obshub contracts."""

from contracts.errors import ContractError

__all__ = ["ContractError"]
