"""The attribution errors a request can cause; each carries a locale key (see :mod:`googlenet.messages`)."""

from __future__ import annotations

from ..messages import KeyedError

__all__ = ["AttributionError", "BudgetExceeded"]


class AttributionError(KeyedError, ValueError):
    """A request that cannot be run as asked (bad method, layer, target, settings)."""


class BudgetExceeded(AttributionError):
    """Even the smallest settings of a method would take longer than the time budget."""
