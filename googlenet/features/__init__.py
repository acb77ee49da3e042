"""Feature visualization: an image optimized to excite one unit (or one class), on a private truncated replica.

Olah et al., "Feature Visualization" (Distill 2017): a Fourier-space parameterization with decorrelated colour
(:mod:`.parameterization`), random jitter, scale and rotation every step (:mod:`.transforms`), the objectives
(:mod:`.objectives`), the network cut at the unit (:mod:`.replica`), the optimization as a generator of previews
(:mod:`.render`), a disk cache keyed by the weights (:mod:`.cache`) and the precomputation of whole modules
(:mod:`.precompute`). See docs/feature-visualization.md.
"""

from .cache import FeatureCache, weights_id
from .render import Preview, Visualization, final, visualize
from .replica import ClassTarget, Target, class_target
from .settings import (CLASS_OBJECTIVE, DEFAULT_SIZE, DEFAULT_STEPS, OBJECTIVES, FeatureSettings,
                       FeatureSettingsError)

__all__ = ["FeatureCache", "weights_id", "Preview", "Visualization", "final", "visualize", "ClassTarget", "Target",
           "class_target", "CLASS_OBJECTIVE", "DEFAULT_SIZE", "DEFAULT_STEPS", "OBJECTIVES", "FeatureSettings",
           "FeatureSettingsError"]
