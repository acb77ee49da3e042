"""Captum attributions on private model replicas: pixel maps, layer maps, branch attribution and trust measures.

Why private replicas: Captum's layer methods register forward hooks on the layer, and Guided Backprop / Guided
GradCAM register backward hooks on every ``nn.ReLU``. The :class:`~googlenet.inference.Engine`'s ``reference`` and
``fast`` models are shared by every request of every user, so a hook on them would change what concurrent
``classify`` calls (and other attributions) compute. An :class:`Attributor` therefore keeps a small pool of deep
copies of the engine's ``fast`` model (BatchNorm folded, channels_last: the same function, several times faster on
CPU). A call borrows one replica, runs, checks that no hook was left behind, and gives it back. The shared models are
only ever read (``deepcopy``), never hooked, never switched to train mode, and their ``requires_grad`` flags stay
``False``: gradients flow to the *input* tensor, which Captum marks ``requires_grad`` itself.

Every method has a declared cost (images sent forward and backward through the network), computed from its settings
*before* running (:func:`declared_cost`), so the page can show it and bound it with a time budget
(:meth:`Attributor.fit_to_budget`). Progress is driven by our own count of images through the replica (a counting
wrapper around it), not by Captum's progress bars, whose totals are wrong for Occlusion.

Trust measures:

- :func:`deletion_insertion`: faithfulness of a map, as the deletion and insertion curves of Petsiuk et al. (RISE,
  BMVC 2018): remove (or insert) pixels in the order the map ranks them and follow the target-class softmax
  probability. A faithful map makes the probability fall fast on deletion (low deletion AUC) and rise fast on
  insertion (high insertion AUC).
- :meth:`Attributor.sanity_check`: the model-randomisation test of Adebayo et al. (NeurIPS 2018, "Sanity checks for
  saliency maps"): randomise the weights from the top of the network down (cascading) or one block at a time
  (independent), recompute the map, and report its Spearman rank correlation with the original map. A map that stays
  the same when the weights it is meant to explain are destroyed explains nothing.
"""

from __future__ import annotations

import copy
import logging
import math
import queue
import threading
import time
import warnings
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from enum import Enum
from typing import Callable, Iterator, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn
import torchvision.transforms.functional as TF
from captum.attr import (
    GradientShap,
    GuidedBackprop,
    GuidedGradCam,
    IntegratedGradients,
    LayerAttribution,
    LayerGradCam,
    LayerGradientXActivation,
    LayerIntegratedGradients,
    NoiseTunnel,
    Occlusion,
    Saliency,
)
from torch import Tensor

from .model import BRANCHES, INCEPTION_MODULES, branch_display_name, module_display_name
from .transforms import PREPROCESS, Preprocess

__all__ = [
    "Method",
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
    "BudgetExceeded",
    "AttributionError",
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
    "Throughput",
    "deletion_insertion",
    "spearman",
    "module_display_name",
    "branch_display_name",
    "model_hook_counts",
]

log = logging.getLogger(__name__)

# Captum warns on every Guided Backprop call that it sets (and later removes) ReLU hooks. On our private replicas
# that is expected; the warning would only flood the log. (A module-level filter: warnings.catch_warnings is not
# thread-safe.)
warnings.filterwarnings("ignore", message=r"Setting backward hooks on ReLU activations", category=UserWarning)
# Layer IG on the four branches of one module: they are parallel (none depends on another), which is what this
# warning asks the caller to make sure of.
warnings.filterwarnings("ignore", message=r"Multiple layers provided", category=UserWarning)
# Captum marks our input tensor requires_grad itself (and restores the flag afterwards); nothing to warn about.
warnings.filterwarnings("ignore", message=r"Input Tensor \d+ did not already require gradients", category=UserWarning)

ProgressCallback = Callable[[float, str], None]  # (fraction 0..1, what is running)


class Method(str, Enum):
    """The attribution methods offered. DeepLift/DeepLiftShap are deliberately absent: Captum's MaxPool rule on
    the stride-1 max-pool branch gives near-zero attributions on this architecture (measured)."""

    INTEGRATED_GRADIENTS = "integrated_gradients"
    SALIENCY = "saliency"
    SMOOTHGRAD = "smoothgrad"
    GRADIENT_SHAP = "gradient_shap"
    OCCLUSION = "occlusion"
    GUIDED_BACKPROP = "guided_backprop"
    GUIDED_GRADCAM = "guided_gradcam"
    LAYER_GRADCAM = "layer_gradcam"


METHODS: tuple[str, ...] = tuple(m.value for m in Method)
LAYER_METHODS: frozenset[str] = frozenset({Method.GUIDED_GRADCAM.value, Method.LAYER_GRADCAM.value})
PRESETS: tuple[str, ...] = ("fast", "balanced", "thorough")
BASELINES: tuple[str, ...] = ("black", "mean", "blur")
BRANCH_METHODS: tuple[str, ...] = ("grad_x_activation", "layer_integrated_gradients")
SANITY_MODES: tuple[str, ...] = ("cascading", "independent")

# Blocks randomised by the sanity check, from the output down (Adebayo et al. randomise top-down).
SANITY_BLOCKS: tuple[str, ...] = ("fc",) + tuple(reversed(INCEPTION_MODULES)) + ("stem",)
_STEM = ("conv1", "conv2", "conv3")

# Preset settings. "steps" means: Integrated Gradients' integration steps, SmoothGrad's and GradientShap's samples.
# Occlusion: window 15 / stride 8 took 33 s on a 2-core CPU, so the presets use larger windows and strides.
_PRESET_STEPS: dict[str, dict[str, int]] = {
    Method.INTEGRATED_GRADIENTS.value: {"fast": 16, "balanced": 32, "thorough": 64},
    Method.SMOOTHGRAD.value: {"fast": 8, "balanced": 16, "thorough": 32},
    Method.GRADIENT_SHAP.value: {"fast": 8, "balanced": 16, "thorough": 32},
}
_PRESET_OCCLUSION: dict[str, tuple[int, int]] = {"fast": (56, 28), "balanced": (32, 16), "thorough": (24, 12)}
_PRESET_BRANCH_IG_STEPS: dict[str, int] = {"fast": 8, "balanced": 16, "thorough": 32}
_MIN_STEPS = 4
_MAX_STEPS = 256
_MAX_OCCLUSION_STRIDE = 112


class AttributionError(ValueError):
    """A request that cannot be run as asked (bad method, layer, target, settings); the message is for the user."""


class BudgetExceeded(AttributionError):
    """Even the smallest settings of a method would take longer than the time budget."""


# ---------------------------------------------------------------------------------------------------------------
# Settings and declared cost
# ---------------------------------------------------------------------------------------------------------------


def batch_size_for(device: torch.device) -> int:
    """Images per forward/backward batch that the app uses on ``device``.

    CPU: 4. Measured on a 2-core CPU, IG with 32 steps and faithfulness curves peaked at +190 MB with 4 against
    +351 MB with 8, for 7% more time: half the memory keeps a classroom laptop (and the server under load) inside
    its budget. GPUs keep 8 (memory is not the limit there, launch overhead is).
    """
    return 4 if device.type == "cpu" else 8


@dataclass(frozen=True)
class AttributionSettings:
    """What to compute. ``None`` fields are filled from the preset by :meth:`resolved`."""

    method: str
    preset: str = "balanced"
    layer: str = "inception4e"  # Layer GradCAM / Guided GradCAM: one of the nine Inception modules
    steps: Optional[int] = None  # IG steps; SmoothGrad / GradientShap samples
    window: Optional[int] = None  # Occlusion: square window side, pixels
    stride: Optional[int] = None  # Occlusion: stride, pixels
    baseline: str = "black"  # IG, Occlusion, GradientShap: what "absent" means
    noise: float = 0.15  # SmoothGrad / GradientShap: noise std as a fraction of the input's value range
    internal_batch_size: int = 8  # images per forward/backward batch (bounds memory: IG 50 steps 3.3 -> 1.4 GiB)

    def resolved(self) -> "AttributionSettings":
        """Validate, and fill unset fields from the preset."""
        if self.method not in METHODS:
            raise AttributionError(f"unknown attribution method {self.method!r}; choose one of {', '.join(METHODS)}")
        if self.preset not in PRESETS:
            raise AttributionError(f"unknown preset {self.preset!r}; choose one of {', '.join(PRESETS)}")
        if self.method in LAYER_METHODS and self.layer not in INCEPTION_MODULES:
            raise AttributionError(f"unknown layer {self.layer!r}; choose one of {', '.join(INCEPTION_MODULES)}")
        if self.baseline not in BASELINES:
            raise AttributionError(f"unknown baseline {self.baseline!r}; choose one of {', '.join(BASELINES)}")
        if not 0.0 <= self.noise <= 1.0:
            raise AttributionError("noise must be between 0 and 1 (a fraction of the input's value range)")
        if self.internal_batch_size < 1:
            raise AttributionError("internal_batch_size must be at least 1")
        out = self
        if self.method in _PRESET_STEPS:
            steps = self.steps or _PRESET_STEPS[self.method][self.preset]
            if not _MIN_STEPS <= steps <= _MAX_STEPS:
                raise AttributionError(f"steps/samples must be between {_MIN_STEPS} and {_MAX_STEPS}")
            out = replace(out, steps=steps)
        else:
            out = replace(out, steps=None)
        if self.method == Method.OCCLUSION.value:
            window, stride = _PRESET_OCCLUSION[self.preset]
            window = self.window or window
            stride = self.stride or stride
            if window < 1 or stride < 1:
                raise AttributionError("occlusion window and stride must be positive")
            out = replace(out, window=window, stride=stride)
        else:
            out = replace(out, window=None, stride=None)
        return out

    def to_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class Cost:
    """Images sent through the network: ``forward`` forward passes, ``backward`` of them also backward."""

    forward: int
    backward: int

    @property
    def passes(self) -> int:
        """Forward plus backward passes (one image each)."""
        return self.forward + self.backward

    def __add__(self, other: "Cost") -> "Cost":
        return Cost(self.forward + other.forward, self.backward + other.backward)

    def __mul__(self, k: int) -> "Cost":
        return Cost(self.forward * k, self.backward * k)

    def to_json(self) -> dict:
        return {"forward": self.forward, "backward": self.backward, "passes": self.passes}


def _occlusion_positions(size: int, window: int, stride: int) -> int:
    # Captum's Occlusion: ceil((size - window) / stride) + 1 window positions per spatial dimension.
    return int(math.ceil((size - window) / stride)) + 1


def declared_cost(settings: AttributionSettings, size: tuple[int, int] = (224, 224)) -> Cost:
    """Images forward and backward one attribution will take (the target's top-1 look-up not included).

    Exact for our implementation: ``tests/test_attributions.py`` counts the images that really go through.
    """
    s = settings.resolved()
    method = s.method
    if method == Method.INTEGRATED_GRADIENTS.value:
        # n_steps interpolated images forward+backward, then 2 forward passes (x and the baseline) for the delta.
        return Cost(forward=s.steps + 2, backward=s.steps)
    if method in (Method.SMOOTHGRAD.value, Method.GRADIENT_SHAP.value):
        return Cost(forward=s.steps, backward=s.steps)
    if method == Method.OCCLUSION.value:
        h, w = size
        if s.window > min(h, w):
            raise AttributionError(f"the occlusion window ({s.window} px) is larger than the image ({h}x{w})")
        # One forward pass of the unoccluded input, then one per window position.
        return Cost(forward=1 + _occlusion_positions(h, s.window, s.stride) * _occlusion_positions(w, s.window,
                                                                                                 s.stride),
                    backward=0)
    if method == Method.GUIDED_GRADCAM.value:
        return Cost(forward=2, backward=2)  # Layer GradCAM + Guided Backprop
    return Cost(forward=1, backward=1)  # Saliency, Guided Backprop, Layer GradCAM


def branch_cost(method: str, preset: str = "balanced", steps: Optional[int] = None) -> Cost:
    """Declared cost of :meth:`Attributor.branch_attribution`."""
    if method == "grad_x_activation":
        return Cost(1, 1)  # one pass for all 36 branches
    if method == "layer_integrated_gradients":
        n = steps or _PRESET_BRANCH_IG_STEPS[preset]
        # Per module: x and baseline forward (layer activations), n_steps forward+backward, 2 forward for the delta.
        return Cost(forward=n + 4, backward=n) * len(INCEPTION_MODULES)
    raise AttributionError(f"unknown branch attribution method {method!r}; choose one of {', '.join(BRANCH_METHODS)}")


def faithfulness_cost(steps: int) -> Cost:
    """Deletion and insertion curves: ``steps + 1`` images each."""
    return Cost(forward=2 * (steps + 1), backward=0)


@dataclass(frozen=True)
class Throughput:
    """Measured seconds per image: forward only, and forward+backward."""

    forward_s: float
    backward_s: float  # forward + backward of one image

    def seconds(self, cost: Cost) -> float:
        return (cost.forward - cost.backward) * self.forward_s + cost.backward * self.backward_s


@dataclass(frozen=True)
class Estimate:
    settings: AttributionSettings  # resolved, possibly scaled down to fit the budget
    cost: Cost
    seconds: Optional[float]  # estimated from this machine's measured throughput (None: not measured yet)
    note: Optional[str] = None  # set when the settings were scaled down

    def to_json(self) -> dict:
        return {"settings": self.settings.to_json(), "cost": self.cost.to_json(),
                "estimated_seconds": None if self.seconds is None else round(self.seconds, 1), "note": self.note}


# ---------------------------------------------------------------------------------------------------------------
# Private replicas
# ---------------------------------------------------------------------------------------------------------------


def model_hook_counts(model: nn.Module) -> int:
    """Total number of hooks registered on any submodule (0 means: nothing left behind)."""
    total = 0
    for m in model.modules():
        for name in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks",
                     "_state_dict_hooks", "_load_state_dict_pre_hooks"):
            total += len(getattr(m, name, {}))
    return total


class _Counted(nn.Module):
    """Wraps a replica: converts inputs to its memory format and counts the images that go forward.

    The count drives the progress bar (exact for every method) and is checked against the declared cost in tests.
    """

    def __init__(self, model: nn.Module, channels_last: bool) -> None:
        super().__init__()
        self.model = model
        self.channels_last = channels_last
        self.images = 0
        self.on_forward: Optional[Callable[[int], None]] = None

    def forward(self, x: Tensor) -> Tensor:
        if self.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        out = self.model(x)  # N x num_classes
        self.images += int(x.shape[0])
        if self.on_forward is not None:
            self.on_forward(self.images)
        return out


class ReplicaPool:
    """A bounded, thread-safe pool of private deep copies of one source model (created lazily)."""

    def __init__(self, source: nn.Module, size: int = 2, channels_last: bool = True) -> None:
        if size < 1:
            raise ValueError("pool size must be at least 1")
        self._source = source
        self._channels_last = channels_last
        self._free: "queue.LifoQueue[_Counted]" = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self.size = size

    def fresh_copy(self) -> _Counted:
        """A new private copy (eval mode, parameters frozen), not part of the pool (e.g. to randomise it)."""
        with self._lock:  # deepcopy only reads the source; the lock just keeps copies from piling up at once
            model = copy.deepcopy(self._source)
        model.eval()
        for p in model.parameters():
            p.requires_grad_(False)
        return _Counted(model, self._channels_last).eval()

    @contextmanager
    def acquire(self) -> Iterator[_Counted]:
        """Borrow a replica; it is returned (or discarded if something was left on it) afterwards."""
        self._slots.acquire()
        try:
            try:
                replica = self._free.get_nowait()
            except queue.Empty:
                replica = self.fresh_copy()
            replica.images, replica.on_forward = 0, None
            try:
                yield replica
            finally:
                replica.on_forward = None
                hooks = model_hook_counts(replica)
                if hooks or replica.training:
                    log.error("discarding an attribution replica with %d hooks left (training=%s)", hooks,
                              replica.training)
                else:
                    self._free.put(replica)
        finally:
            self._slots.release()


# ---------------------------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Faithfulness:
    """Deletion and insertion curves (Petsiuk et al. 2018) of the target-class softmax probability."""

    fractions: list[float]  # fraction of pixels removed / inserted, 0..1
    deletion: list[float]  # probability after deleting the top-ranked fraction (replaced by the ImageNet mean)
    insertion: list[float]  # probability after inserting the top-ranked fraction into a blurred copy
    deletion_auc: float  # lower = more faithful
    insertion_auc: float  # higher = more faithful
    ranking: str  # "signed" (most positive first) or "absolute"

    @property
    def score(self) -> float:
        """Insertion AUC minus deletion AUC: one number, higher = more faithful (a random ranking gives ~0)."""
        return self.insertion_auc - self.deletion_auc

    def to_json(self) -> dict:
        return {
            "measure": "deletion/insertion AUC of the target softmax probability (Petsiuk et al. 2018)",
            "ranking": self.ranking,
            "deletion_auc": round(self.deletion_auc, 5),
            "insertion_auc": round(self.insertion_auc, 5),
            "score": round(self.score, 5),
            "fractions": [round(f, 4) for f in self.fractions],
            "deletion": [round(v, 5) for v in self.deletion],
            "insertion": [round(v, 5) for v in self.insertion],
        }


@dataclass
class AttributionResult:
    settings: AttributionSettings  # as run (resolved, possibly scaled down)
    target: int
    attributions: np.ndarray = field(repr=False)  # 3 x H x W (Layer GradCAM: 1 x H x W), float32
    map: np.ndarray = field(repr=False)  # H x W: summed over channels (signed)
    cost: Cost  # declared
    counted_forward: int  # images that really went forward (checked against the cost in tests)
    elapsed_s: float
    convergence_delta: Optional[float] = None  # Integrated Gradients: sum(attr) - (f(x) - f(baseline))
    target_logit: Optional[float] = None  # f(x) for the target
    baseline_logit: Optional[float] = None  # f(baseline), Integrated Gradients only
    faithfulness: Optional[Faithfulness] = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        out = {
            "method": self.settings.method,
            "settings": self.settings.to_json(),
            "target": self.target,
            "cost": self.cost.to_json(),
            "elapsed_s": round(self.elapsed_s, 3),
            "map_sum": float(self.map.sum()),
            "map_abs_max": float(np.abs(self.map).max()),
            "target_logit": self.target_logit,
            "notes": list(self.notes),
        }
        if self.convergence_delta is not None:
            out["convergence_delta"] = self.convergence_delta
            out["baseline_logit"] = self.baseline_logit
        if self.faithfulness is not None:
            out["faithfulness"] = self.faithfulness.to_json()
        return out


@dataclass
class BranchAttribution:
    """How much each branch of each Inception module contributed to the target logit."""

    method: str
    target: int
    modules: tuple[str, ...]
    branches: tuple[str, ...]
    values: np.ndarray  # len(modules) x 4: summed attribution of each branch (logit units)
    maps: dict[str, np.ndarray] = field(repr=False)  # module -> 4 x h x w (channel-summed, at the module's size)
    cost: Cost
    elapsed_s: float
    deltas: Optional[list[float]] = None  # layer IG: per-module convergence delta
    notes: list[str] = field(default_factory=list)

    def share(self) -> np.ndarray:
        """Each branch's share of its module's total absolute attribution (rows sum to 1)."""
        totals = np.abs(self.values).sum(axis=1, keepdims=True)
        return np.divide(np.abs(self.values), totals, out=np.zeros_like(self.values), where=totals > 0)

    def to_json(self) -> dict:
        share = self.share()
        return {
            "method": self.method,
            "target": self.target,
            "cost": self.cost.to_json(),
            "elapsed_s": round(self.elapsed_s, 3),
            "modules": {
                m: {
                    "branches": {b: float(self.values[i, j]) for j, b in enumerate(self.branches)},
                    "share": {b: float(share[i, j]) for j, b in enumerate(self.branches)},
                    **({"convergence_delta": self.deltas[i]} if self.deltas else {}),
                }
                for i, m in enumerate(self.modules)
            },
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class SanityStep:
    block: str  # the block randomised at this step (cascading: this one and every block above it)
    map: np.ndarray = field(repr=False)  # H x W
    spearman_abs: float  # rank correlation of |map| with |original map|
    spearman_signed: float  # rank correlation of the signed maps


@dataclass
class SanityResult:
    settings: AttributionSettings
    mode: str
    target: int
    original: np.ndarray = field(repr=False)  # H x W
    steps: list[SanityStep]
    cost: Cost
    elapsed_s: float
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "test": "model parameter randomisation (Adebayo et al. 2018)",
            "method": self.settings.method,
            "settings": self.settings.to_json(),
            "mode": self.mode,
            "target": self.target,
            "cost": self.cost.to_json(),
            "elapsed_s": round(self.elapsed_s, 3),
            "steps": [{"randomised": s.block, "spearman_abs": round(s.spearman_abs, 4),
                       "spearman_signed": round(s.spearman_signed, 4)} for s in self.steps],
            "notes": list(self.notes),
        }


# ---------------------------------------------------------------------------------------------------------------
# Measures
# ---------------------------------------------------------------------------------------------------------------


def _rankdata(a: np.ndarray) -> np.ndarray:
    """Average ranks (ties share the mean rank), as scipy.stats.rankdata(method="average")."""
    a = np.ravel(a)
    sorter = np.argsort(a, kind="mergesort")
    inv = np.empty(sorter.size, dtype=np.intp)
    inv[sorter] = np.arange(sorter.size, dtype=np.intp)
    a = a[sorter]
    obs = np.r_[True, a[1:] != a[:-1]]
    dense = obs.cumsum()[inv]
    count = np.r_[np.nonzero(obs)[0], len(obs)]
    return 0.5 * (count[dense] + count[dense - 1] + 1)


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two maps (0.0 when either is constant)."""
    ra, rb = _rankdata(a), _rankdata(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denom = math.sqrt(float((ra * ra).sum()) * float((rb * rb).sum()))
    return float((ra * rb).sum() / denom) if denom > 0 else 0.0


def _blur(x: Tensor) -> Tensor:
    """A strongly blurred copy (the insertion curve's starting image and the "blur" baseline)."""
    size = max(3, (min(x.shape[-2:]) // 7) | 1)  # odd kernel, ~1/7 of the image (31 px at 224)
    return TF.gaussian_blur(x, kernel_size=[size, size], sigma=[size / 3.0, size / 3.0])


def _auc(fractions: np.ndarray, values: np.ndarray) -> float:
    return float(np.sum((values[1:] + values[:-1]) * np.diff(fractions)) / 2.0)


@torch.inference_mode()
def deletion_insertion(
    forward: Callable[[Tensor], Tensor],
    x: Tensor,
    attribution_map: np.ndarray,
    target: int,
    *,
    steps: int = 10,
    absolute: bool = False,
    batch_size: int = 8,
    seed: int = 0,
) -> Faithfulness:
    """Deletion and insertion curves for one map (Petsiuk et al., "RISE", BMVC 2018).

    Pixels are ranked by the map (most positive first, or by absolute value when ``absolute``; ties broken at
    random with a fixed seed, so a blocky Layer GradCAM map is not favoured by scan order). Deletion replaces the
    top-ranked fraction with the ImageNet mean colour (0 after normalization); insertion pastes it into a blurred
    copy. Each curve has ``steps + 1`` points from 0 % to 100 %; the forward passes run in batches.
    """
    # x: 1 x 3 x H x W (normalized)
    h, w = x.shape[-2:]
    if attribution_map.shape != (h, w):
        raise ValueError(f"map shape {attribution_map.shape} does not match the input's {(h, w)}")
    scores = np.abs(attribution_map) if absolute else attribution_map
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(scores.size), -scores.ravel()))  # best first; random tie-break
    ranks = np.empty(scores.size, dtype=np.int64)
    ranks[order] = np.arange(scores.size)
    ranks_t = torch.from_numpy(ranks.reshape(1, 1, h, w)).to(x.device)
    fractions = np.linspace(0.0, 1.0, steps + 1)
    counts = torch.tensor([int(round(f * h * w)) for f in fractions], device=x.device).view(-1, 1, 1, 1)
    masks = (ranks_t < counts).to(x.dtype)  # S x 1 x H x W: 1 where the pixel is among the top fraction
    empty = torch.zeros_like(x)  # the ImageNet mean colour
    blurred = _blur(x)
    deleted = x * (1 - masks) + empty * masks  # S x 3 x H x W
    inserted = blurred * (1 - masks) + x * masks
    probabilities = []
    for batch in torch.cat([deleted, inserted]).split(batch_size):
        probabilities.append(forward(batch).float().softmax(dim=1)[:, target].cpu())
    p = torch.cat(probabilities).numpy()
    deletion, insertion = p[: steps + 1], p[steps + 1:]
    return Faithfulness(
        fractions=fractions.tolist(),
        deletion=deletion.tolist(),
        insertion=insertion.tolist(),
        deletion_auc=_auc(fractions, deletion),
        insertion_auc=_auc(fractions, insertion),
        ranking="absolute" if absolute else "signed",
    )


# ---------------------------------------------------------------------------------------------------------------
# The attributor
# ---------------------------------------------------------------------------------------------------------------


class _Progress:
    """Maps counted images to a fraction of the declared total and forwards it to the user's callback."""

    def __init__(self, callback: Optional[ProgressCallback], total: int, label: str) -> None:
        self.callback = callback
        self.total = max(1, total)
        self.offset = 0
        self.label = label

    def report(self, images: int) -> None:
        if self.callback is not None:
            done = min(self.offset + images, self.total)
            self.callback(done / self.total, f"{self.label}: {done}/{self.total}")

    def advance(self, images: int) -> None:
        self.offset += images
        self.report(0)


def _private_input(x: Tensor) -> Tensor:
    """Validate ``x`` and return a private copy.

    The copy matters: Captum sets ``requires_grad`` on its input and resets it when done, so two calls sharing one
    tensor (e.g. two threads explaining the same photo) would switch gradients off under each other.
    """
    if x.dim() != 4 or x.shape[0] != 1 or x.shape[1] != 3:
        raise AttributionError(f"expected one image as a 1 x 3 x H x W tensor, got {tuple(x.shape)}")
    if torch.is_inference_mode_enabled():
        # Tensors made under inference_mode can never take part in autograd.
        raise RuntimeError("attributions need gradients: do not call them inside torch.inference_mode()")
    return x.detach().clone()


class Attributor:
    """Runs attributions on private replicas of one model. Thread-safe; never modifies ``model``.

    Args:
        model: the model to explain (e.g. ``engine.fast``); read only, by ``deepcopy``.
        pool_size: how many attributions may run at once (each holds one replica).
        channels_last: feed replicas channels_last inputs (the engine's fast model uses that format).
        preprocess_spec: the normalization of the inputs (defines the "black" baseline).
        throughput: seconds per image to start the time estimates from (default: measured on first use).
    """

    def __init__(self, model: nn.Module, *, pool_size: int = 2, channels_last: bool = True,
                 preprocess_spec: Preprocess = PREPROCESS, throughput: Optional[Throughput] = None) -> None:
        self.pool = ReplicaPool(model, pool_size, channels_last)
        self.spec = preprocess_spec
        self._throughput: Optional[Throughput] = throughput
        self._throughput_lock = threading.Lock()

    @classmethod
    def for_engine(cls, engine, pool_size: int = 2, throughput: Optional[Throughput] = None) -> "Attributor":
        """Replicas of ``engine.fast`` (a :class:`~googlenet.inference.Engine`), fed channels_last inputs."""
        return cls(engine.fast, pool_size=pool_size, channels_last=True, preprocess_spec=engine.preprocess_spec,
                   throughput=throughput)

    # --- cost and budget -------------------------------------------------------------------------------------

    def throughput(self) -> Throughput:
        """Seconds per image on this machine: measured once (a few images), then refined after every run."""
        with self._throughput_lock:
            if self._throughput is not None:
                return self._throughput
        with self.pool.acquire() as replica, torch.enable_grad():
            device = next(replica.parameters()).device
            x = torch.randn(2, 3, 224, 224, device=device)
            with torch.no_grad():
                replica(x)  # warm-up (oneDNN picks kernels)
                start = time.perf_counter()
                replica(x)
                fwd = (time.perf_counter() - start) / 2
            xg = x.clone().requires_grad_(True)
            start = time.perf_counter()
            out = replica(xg)
            torch.autograd.grad(out[:, 0].sum(), xg)
            bwd = (time.perf_counter() - start) / 2
        with self._throughput_lock:
            self._throughput = Throughput(forward_s=fwd, backward_s=max(bwd, fwd))
            return self._throughput

    def _learn(self, cost: Cost, elapsed_s: float) -> None:
        """Refine the throughput from a finished run (moving average of measured / predicted)."""
        with self._throughput_lock:
            if self._throughput is None or cost.forward == 0:
                return
            predicted = self._throughput.seconds(cost)
            if predicted <= 0:
                return
            ratio = min(4.0, max(0.25, elapsed_s / predicted))
            factor = 0.7 + 0.3 * ratio
            self._throughput = Throughput(self._throughput.forward_s * factor, self._throughput.backward_s * factor)

    def estimate(self, settings: AttributionSettings, size: tuple[int, int] = (224, 224)) -> Estimate:
        s = settings.resolved()
        cost = declared_cost(s, size)
        seconds = self.throughput().seconds(cost) * (size[0] * size[1]) / (224 * 224)
        return Estimate(s, cost, seconds)

    def fit_to_budget(self, settings: AttributionSettings, budget_s: Optional[float],
                      size: tuple[int, int] = (224, 224), *, multiplier: int = 1,
                      extra: Cost = Cost(0, 0)) -> Estimate:
        """The settings scaled down until the estimated time fits ``budget_s`` (None: no budget).

        Steps/samples are halved (down to 4); Occlusion's stride (and window, which must cover the stride) grow.
        ``multiplier``/``extra`` account for repeated runs (the sanity check) and added passes (faithfulness).
        Raises :class:`BudgetExceeded` if even the smallest settings would not fit.
        """
        s = settings.resolved()
        if budget_s is None and self._throughput is None:
            # no budget to check: do not spend a calibration run just for an estimate nobody asked for
            return Estimate(s, declared_cost(s, size) * multiplier + extra, None)
        tp = self.throughput()
        scale = (size[0] * size[1]) / (224 * 224)

        def seconds(st: AttributionSettings) -> float:
            return tp.seconds(declared_cost(st, size) * multiplier + extra) * scale

        original = s
        if budget_s is None or seconds(s) <= budget_s:
            return Estimate(s, declared_cost(s, size) * multiplier + extra, seconds(s))
        while seconds(s) > budget_s:
            if s.steps is not None and s.steps > _MIN_STEPS:
                s = replace(s, steps=max(_MIN_STEPS, s.steps // 2))
            elif s.stride is not None and s.stride < min(_MAX_OCCLUSION_STRIDE, min(size) // 2):
                stride = min(s.stride * 2, _MAX_OCCLUSION_STRIDE, min(size) // 2)
                s = replace(s, stride=stride, window=min(max(s.window, stride), min(size)))
            else:
                raise BudgetExceeded(
                    f"{s.method} would take about {seconds(s):.0f} s even with its smallest settings, "
                    f"over the {budget_s:.0f} s budget"
                )
        changed = ", ".join(
            f"{name} {getattr(original, name)} -> {getattr(s, name)}"
            for name in ("steps", "window", "stride")
            if getattr(original, name) != getattr(s, name)
        )
        note = (f"scaled down to fit the {budget_s:.0f} s budget ({changed}); "
                f"estimated {seconds(original):.0f} s -> {seconds(s):.0f} s")
        return Estimate(s, declared_cost(s, size) * multiplier + extra, seconds(s), note)

    # --- helpers ---------------------------------------------------------------------------------------------

    def _baseline(self, x: Tensor, kind: str) -> Tensor:
        if kind == "mean":
            return torch.zeros_like(x)  # the ImageNet mean colour after normalization
        if kind == "blur":
            return _blur(x)
        mean = torch.tensor(self.spec.mean, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(self.spec.std, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        return ((0.0 - mean) / std).expand_as(x).clone()  # black pixels, normalized

    @staticmethod
    def _top1(replica: _Counted, x: Tensor) -> tuple[int, int]:
        with torch.no_grad():
            logits = replica(x)  # 1 x num_classes
        return int(logits.argmax(dim=1)), int(logits.shape[1])

    def _resolve_target(self, replica: _Counted, x: Tensor, target: Optional[int]) -> int:
        top1, num_classes = self._top1(replica, x)
        if target is None:
            return top1
        if not 0 <= int(target) < num_classes:
            raise AttributionError(f"target class {target} is outside 0..{num_classes - 1}")
        return int(target)

    # --- pixel attributions ----------------------------------------------------------------------------------

    def _run_method(self, replica: _Counted, x: Tensor, s: AttributionSettings, target: int,
                    progress: _Progress) -> tuple[Tensor, Optional[float], Optional[float], Optional[float]]:
        """Returns (attributions 1 x C x H x W, convergence delta, f(x), f(baseline))."""
        method = s.method
        model = replica.model
        if method == Method.INTEGRATED_GRADIENTS.value:
            baseline = self._baseline(x, s.baseline)
            ig = IntegratedGradients(replica)
            attr, delta = ig.attribute(x, baselines=baseline, target=target, n_steps=s.steps,
                                       internal_batch_size=s.internal_batch_size, return_convergence_delta=True)
            with torch.no_grad():
                ends = replica.model(torch.cat([x, baseline]).contiguous(memory_format=torch.channels_last)
                                     if replica.channels_last else torch.cat([x, baseline]))[:, target]
            return attr, float(delta.reshape(-1)[0]), float(ends[0]), float(ends[1])
        if method == Method.SALIENCY.value:
            return Saliency(replica).attribute(x, target=target, abs=False), None, None, None
        if method == Method.SMOOTHGRAD.value:
            stdev = s.noise * float(x.max() - x.min())
            nt = NoiseTunnel(Saliency(replica))
            attr = nt.attribute(x, nt_type="smoothgrad", nt_samples=s.steps,
                                nt_samples_batch_size=s.internal_batch_size, stdevs=stdev, target=target, abs=False)
            return attr, None, None, None
        if method == Method.GRADIENT_SHAP.value:
            # GradientShap is an expectation over (baseline, noise, alpha) samples: averaging independent chunks
            # is the same estimator, and chunking bounds memory (Captum runs all n_samples in one batch).
            baselines = torch.cat([self._baseline(x, kind) for kind in BASELINES])  # 3 x 3 x H x W
            stdev = s.noise * float(x.max() - x.min())
            gs = GradientShap(replica)
            total: Optional[Tensor] = None
            remaining = s.steps
            while remaining > 0:
                n = min(remaining, s.internal_batch_size)
                chunk = gs.attribute(x, baselines=baselines, n_samples=n, stdevs=stdev, target=target)
                total = chunk * n if total is None else total + chunk * n
                remaining -= n
            return total / s.steps, None, None, None
        if method == Method.OCCLUSION.value:
            baseline = self._baseline(x, s.baseline)
            occ = Occlusion(replica)
            attr = occ.attribute(x, sliding_window_shapes=(3, s.window, s.window), strides=(3, s.stride, s.stride),
                                 baselines=baseline, target=target, perturbations_per_eval=s.internal_batch_size)
            return attr, None, None, None
        if method == Method.GUIDED_BACKPROP.value:
            return GuidedBackprop(replica).attribute(x, target=target), None, None, None
        layer = getattr(model, s.layer)
        if method == Method.GUIDED_GRADCAM.value:
            return GuidedGradCam(replica, layer).attribute(x, target=target, interpolate_mode="bilinear"), None, \
                None, None
        if method == Method.LAYER_GRADCAM.value:
            cam = LayerGradCam(replica, layer).attribute(x, target=target)  # 1 x 1 x h x w
            up = LayerAttribution.interpolate(cam, tuple(x.shape[-2:]), interpolate_mode="bilinear")
            return up, None, None, None
        raise AttributionError(f"unknown attribution method {method!r}")

    def attribute(
        self,
        x: Tensor,
        settings: AttributionSettings,
        target: Optional[int] = None,
        *,
        budget_s: Optional[float] = None,
        faithfulness_steps: Optional[int] = 10,
        absolute_ranking: bool = False,
        progress: Optional[ProgressCallback] = None,
    ) -> AttributionResult:
        """One attribution map for ``x`` (1 x 3 x H x W, normalized) and ``target`` (None: the top-1 class).

        ``budget_s`` scales the settings down to fit (see :meth:`fit_to_budget`); ``faithfulness_steps`` (None:
        skip) adds deletion/insertion curves, ranked by absolute value when ``absolute_ranking``.
        """
        x = _private_input(x)
        size = (int(x.shape[-2]), int(x.shape[-1]))
        extra = faithfulness_cost(faithfulness_steps) if faithfulness_steps else Cost(0, 0)
        plan = self.fit_to_budget(settings, budget_s, size, extra=extra)
        s = plan.settings
        cost = declared_cost(s, size)
        notes = [plan.note] if plan.note else []
        start = time.perf_counter()
        tracker = _Progress(progress, 1 + cost.forward + extra.forward, s.method)
        with self.pool.acquire() as replica, torch.enable_grad():
            replica.on_forward = tracker.report
            target = self._resolve_target(replica, x, target)
            tracker.advance(replica.images)
            replica.images = 0
            attr, delta, f_x, f_b = self._run_method(replica, x, s, target, tracker)
            counted = replica.images  # f(x), f(baseline) for the report go to replica.model: not counted
            tracker.advance(replica.images)
            replica.images = 0
            attr = attr.detach().float()
            if s.method == Method.OCCLUSION.value:
                attr = attr[:, :1]  # the window spans all channels: each channel holds the same value
            attribution_map = attr[0].sum(dim=0).cpu().numpy()  # H x W
            if f_x is None:
                with torch.no_grad():
                    f_x = float(replica.model(x.contiguous(memory_format=torch.channels_last)
                                              if replica.channels_last else x)[0, target])
            faith = None
            if faithfulness_steps:
                faith = deletion_insertion(replica, x, attribution_map, target, steps=faithfulness_steps,
                                           absolute=absolute_ranking, batch_size=s.internal_batch_size)
        elapsed = time.perf_counter() - start
        self._learn(cost + extra, elapsed)
        if progress is not None:
            progress(1.0, f"{s.method}: done")
        if not np.isfinite(attribution_map).all():
            raise RuntimeError(f"{s.method} produced non-finite attributions")
        if not np.any(attribution_map):
            notes.append("the map is all zero: this method found no gradient signal for this target")
        return AttributionResult(
            settings=s,
            target=target,
            attributions=attr[0].cpu().numpy(),
            map=attribution_map,
            cost=cost,
            counted_forward=counted,
            elapsed_s=elapsed,
            convergence_delta=delta,
            target_logit=f_x,
            baseline_logit=f_b,
            faithfulness=faith,
            notes=notes,
        )

    # --- branch attribution ----------------------------------------------------------------------------------

    def branch_attribution(
        self,
        x: Tensor,
        target: Optional[int] = None,
        *,
        method: str = "grad_x_activation",
        preset: str = "balanced",
        steps: Optional[int] = None,
        baseline: str = "black",
        internal_batch_size: int = 8,
        progress: Optional[ProgressCallback] = None,
    ) -> BranchAttribution:
        """For the target class: the attribution of each of the four branches of each of the nine modules.

        - ``grad_x_activation``: gradient x activation on every ``inceptionXY.branchN`` output, all 36 in one
          pass (a first-order Taylor estimate of each branch's contribution to the target logit).
        - ``layer_integrated_gradients``: per module, Integrated Gradients on its four branch outputs at once (they
          are parallel, so patching them together is exact). Completeness holds per module: the four values sum
          to f(x) - f(baseline) up to the reported delta. Nine runs.

        ``values`` sums each branch's attribution over channels and positions; ``maps`` keeps the channel sum per
        position, so each value is the sum of its map.
        """
        x = _private_input(x)
        if method not in BRANCH_METHODS:
            raise AttributionError(f"unknown branch attribution method {method!r}")
        if preset not in PRESETS:
            raise AttributionError(f"unknown preset {preset!r}")
        if baseline not in BASELINES:
            raise AttributionError(f"unknown baseline {baseline!r}")
        cost = branch_cost(method, preset, steps)
        n_steps = steps or _PRESET_BRANCH_IG_STEPS[preset]
        start = time.perf_counter()
        tracker = _Progress(progress, 1 + cost.forward, "branches")
        values = np.zeros((len(INCEPTION_MODULES), len(BRANCHES)), dtype=np.float64)
        maps: dict[str, np.ndarray] = {}
        deltas: Optional[list[float]] = None
        with self.pool.acquire() as replica, torch.enable_grad():
            replica.on_forward = tracker.report
            target = self._resolve_target(replica, x, target)
            tracker.advance(replica.images)
            replica.images = 0
            model = replica.model
            if method == "grad_x_activation":
                layers = [getattr(getattr(model, m), b) for m in INCEPTION_MODULES for b in BRANCHES]
                attrs = LayerGradientXActivation(replica, layers).attribute(x, target=target)  # 36 x (1 x C x h x w)
                for i, module in enumerate(INCEPTION_MODULES):
                    per_branch = [attrs[i * len(BRANCHES) + j][0].sum(dim=0) for j in range(len(BRANCHES))]
                    maps[module] = torch.stack(per_branch).detach().float().cpu().numpy()  # 4 x h x w
            else:
                deltas = []
                base = self._baseline(x, baseline)
                for module in INCEPTION_MODULES:
                    inception = getattr(model, module)
                    lig = LayerIntegratedGradients(replica, [getattr(inception, b) for b in BRANCHES])
                    attrs, delta = lig.attribute(x, baselines=base, target=target, n_steps=n_steps,
                                                 internal_batch_size=internal_batch_size,
                                                 return_convergence_delta=True)
                    maps[module] = torch.stack([a[0].sum(dim=0) for a in attrs]).detach().float().cpu().numpy()
                    deltas.append(float(delta.reshape(-1)[0]))
            for i, module in enumerate(INCEPTION_MODULES):
                values[i] = maps[module].reshape(len(BRANCHES), -1).sum(axis=1)
        elapsed = time.perf_counter() - start
        self._learn(cost, elapsed)
        if progress is not None:
            progress(1.0, "branches: done")
        return BranchAttribution(method=method, target=target, modules=INCEPTION_MODULES, branches=BRANCHES,
                                 values=values, maps=maps, cost=cost, elapsed_s=elapsed, deltas=deltas)

    # --- sanity check ----------------------------------------------------------------------------------------

    @staticmethod
    def _block_modules(model: nn.Module, block: str) -> list[nn.Module]:
        if block == "stem":
            return [getattr(model, name) for name in _STEM]
        return [getattr(model, block)]

    @staticmethod
    def _randomise(modules: Sequence[nn.Module], generator: torch.Generator) -> None:
        """Redraw every parameter from a normal distribution with that tensor's own mean and std.

        Keeping each tensor's scale (rather than e.g. Kaiming's) keeps the activations of a BatchNorm-folded
        network in range, so the randomised maps are not trivially zero.
        """
        with torch.no_grad():
            for module in modules:
                for p in module.parameters():
                    std = float(p.std()) if p.numel() > 1 else 0.0
                    noise = torch.randn(p.shape, generator=generator, dtype=p.dtype)
                    p.copy_((noise * std + float(p.mean())).to(p.device))

    def sanity_cost(self, settings: AttributionSettings, size: tuple[int, int] = (224, 224),
                    blocks: Sequence[str] = SANITY_BLOCKS) -> Cost:
        return declared_cost(settings, size) * (1 + len(blocks))

    def sanity_check(
        self,
        x: Tensor,
        settings: AttributionSettings,
        target: Optional[int] = None,
        *,
        mode: str = "cascading",
        blocks: Sequence[str] = SANITY_BLOCKS,
        budget_s: Optional[float] = None,
        seed: int = 0,
        progress: Optional[ProgressCallback] = None,
    ) -> SanityResult:
        """Model-randomisation sanity check (Adebayo et al. 2018) for one method, on a private copy.

        ``cascading``: randomise ``blocks`` in order (top-down), each step keeping the earlier ones randomised;
        ``independent``: randomise one block at a time, restoring the others. Each step reports the Spearman rank
        correlation between the original and the randomised map (absolute and signed). Low correlation = the map
        depends on the learned weights, as an explanation must.
        """
        x = _private_input(x)
        if mode not in SANITY_MODES:
            raise AttributionError(f"unknown mode {mode!r}; choose one of {', '.join(SANITY_MODES)}")
        for block in blocks:
            if block not in SANITY_BLOCKS:
                raise AttributionError(f"unknown block {block!r}")
        size = (int(x.shape[-2]), int(x.shape[-1]))
        plan = self.fit_to_budget(settings, budget_s, size, multiplier=1 + len(blocks))
        s = plan.settings
        per_run = declared_cost(s, size)
        cost = per_run * (1 + len(blocks))
        notes = [plan.note] if plan.note else []
        tracker = _Progress(progress, 1 + cost.forward, f"sanity check ({s.method})")
        start = time.perf_counter()
        generator = torch.Generator().manual_seed(seed)
        replica = self.pool.fresh_copy()  # private and disposable: its weights get overwritten
        replica.on_forward = tracker.report
        try:
            with torch.enable_grad():
                target = self._resolve_target(replica, x, target)
                tracker.advance(replica.images)
                replica.images = 0

                def run() -> np.ndarray:
                    attr, *_ = self._run_method(replica, x, s, target, tracker)
                    tracker.advance(replica.images)
                    replica.images = 0
                    attr = attr.detach().float()
                    if s.method == Method.OCCLUSION.value:
                        attr = attr[:, :1]
                    return attr[0].sum(dim=0).cpu().numpy()

                original = run()
                steps: list[SanityStep] = []
                for block in blocks:
                    modules = self._block_modules(replica.model, block)
                    saved = [copy.deepcopy(m.state_dict()) for m in modules] if mode == "independent" else None
                    self._randomise(modules, generator)
                    randomised = run()
                    steps.append(SanityStep(block, randomised, spearman(np.abs(original), np.abs(randomised)),
                                            spearman(original, randomised)))
                    if saved is not None:
                        for m, state in zip(modules, saved):
                            m.load_state_dict(state)
        finally:
            replica.on_forward = None
            if model_hook_counts(replica):
                log.error("hooks left on the sanity-check copy")
        elapsed = time.perf_counter() - start
        self._learn(cost, elapsed)
        if progress is not None:
            progress(1.0, "sanity check: done")
        return SanityResult(settings=s, mode=mode, target=target, original=original, steps=steps, cost=cost,
                            elapsed_s=elapsed, notes=notes)
