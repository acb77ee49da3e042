"""Captum attributions on private model replicas: pixel maps, layer maps, branch attribution and trust measures.

One method per module in :mod:`.methods` (what it reads, its presets, its declared cost, how it runs); the
:class:`Attributor` runs them on private replicas of the model (:mod:`.replicas`), never with hooks on the shared
one. Costs are declared before running (:mod:`.planning`), so the page can show them and bound them with a time
budget. Trust measures: faithfulness by deletion/insertion curves (:mod:`.faithfulness`) and the
model-randomisation sanity check (:mod:`.sanity`).
"""

from __future__ import annotations

from ..model import branch_display_name, module_display_name
from .attributor import Attributor
from .branches import branch_cost
from .cost import Cost, Throughput, faithfulness_cost
from .errors import AttributionError, BudgetExceeded
from .faithfulness import Faithfulness, deletion_insertion
from .planning import Estimate, declared_cost
from .progress import ProgressCallback
from .replicas import ReplicaPool
from .results import AttributionResult, BranchAttribution, SanityResult, SanityStep
from .settings import (
    BASELINES,
    BRANCH_METHODS,
    LAYER_METHODS,
    METHODS,
    PRESETS,
    SANITY_BLOCKS,
    SANITY_MODES,
    AttributionSettings,
    batch_size_for,
)
from .stats import spearman

__all__ = [
    "METHODS",
    "LAYER_METHODS",
    "PRESETS",
    "BASELINES",
    "BRANCH_METHODS",
    "SANITY_MODES",
    "SANITY_BLOCKS",
    "AttributionSettings",
    "batch_size_for",
    "Cost",
    "Estimate",
    "Throughput",
    "AttributionError",
    "BudgetExceeded",
    "Faithfulness",
    "AttributionResult",
    "BranchAttribution",
    "SanityStep",
    "SanityResult",
    "ReplicaPool",
    "Attributor",
    "declared_cost",
    "branch_cost",
    "faithfulness_cost",
    "ProgressCallback",
    "deletion_insertion",
    "spearman",
    "module_display_name",
    "branch_display_name",
]
