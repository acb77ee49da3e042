"""What a visualization is asked for: the objective, the steps, the image size and the seed, checked.

The defaults are chosen from the measurements of ``bench/sections/features.py`` (docs/performance.md): the
smallest steps x size at which the objective has nearly stopped rising, within the CPU's time targets.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..messages import KeyedError

__all__ = ["OBJECTIVES", "CLASS_OBJECTIVE", "FeatureSettings", "FeatureSettingsError", "DEFAULT_STEPS",
           "DEFAULT_SIZE", "DIVERSITY_IMAGES", "STEPS_RANGE", "SIZE_RANGE", "SEED_MAX"]

#: What a unit's visualization maximizes: the channel's mean over positions (the default), its centre position
#: (one neuron), or the channel in four images pushed apart from each other (diversity).
OBJECTIVES: tuple[str, ...] = ("channel", "neuron", "diversity")
#: The class view's objective: the class's logit, before the softmax.
CLASS_OBJECTIVE = "logit"
DIVERSITY_IMAGES = 4
DEFAULT_STEPS = 96
DEFAULT_SIZE = 224
STEPS_RANGE: tuple[int, int] = (1, 2048)
SIZE_RANGE: tuple[int, int] = (64, 512)
SEED_MAX = 2**31 - 1


class FeatureSettingsError(KeyedError, ValueError):
    """An objective, a number of steps, a size or a seed the visualization does not accept."""


def _whole(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise FeatureSettingsError("errors.features_range", name=name, value=value, low=low, high=high)
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise FeatureSettingsError("errors.features_range", name=name, value=value, low=low, high=high) from None
    if not number.is_integer() or not low <= number <= high:
        raise FeatureSettingsError("errors.features_range", name=name, value=value, low=low, high=high)
    return int(number)


@dataclass(frozen=True)
class FeatureSettings:
    """One visualization's settings (the target is given separately)."""

    objective: str = "channel"
    steps: int = DEFAULT_STEPS
    size: int = DEFAULT_SIZE
    seed: int = 0
    lr: float = 0.1  # Adam's step on the Fourier coefficients (Lucid uses 0.05; 0.1 measured better at <= 256 steps)

    @classmethod
    def checked(cls, objective: str = "channel", steps: object = DEFAULT_STEPS, size: object = DEFAULT_SIZE,
                seed: object = 0, *, for_class: bool = False) -> "FeatureSettings":
        """Settings from user input (numbers may arrive as floats from a slider), or a keyed error."""
        allowed = (CLASS_OBJECTIVE,) if for_class else OBJECTIVES
        objective = str(objective or allowed[0])
        if objective not in allowed:
            raise FeatureSettingsError("errors.features_objective", value=objective, choices=", ".join(allowed))
        return cls(objective=objective, steps=_whole(steps, "steps", *STEPS_RANGE),
                   size=_whole(size, "size", *SIZE_RANGE), seed=_whole(seed, "seed", 0, SEED_MAX))

    @property
    def images(self) -> int:
        """How many images one run optimizes together (one batch)."""
        return DIVERSITY_IMAGES if self.objective == "diversity" else 1

    def as_dict(self) -> dict:
        return asdict(self)
