"""The :class:`Attributor`: runs any method, branch attribution or sanity check on private replicas.

Everything a request needs from the shared model it gets by ``deepcopy`` (see :mod:`.replicas`): the shared models
are never hooked, never switched to train mode, and their ``requires_grad`` flags stay ``False``; gradients flow to
the *input* tensor, which Captum marks ``requires_grad`` itself.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from typing import TYPE_CHECKING, NamedTuple, Optional, Sequence

import numpy as np
import torch
import torch.nn as nn
from torch import Tensor

from ..integrity import hook_count
from ..messages import Message
from ..model import BRANCHES, INCEPTION_MODULES
from ..transforms import PREPROCESS, Preprocess
from .baselines import baseline as make_baseline
from .branches import branch_cost, branch_maps
from .cost import Cost, Throughput, faithfulness_cost
from .errors import AttributionError
from .faithfulness import deletion_insertion
from .methods import MethodOutput, RunContext
from .methods.base import forward_logits
from .planning import Estimate, declared_cost, fit_to_budget
from .progress import Progress, ProgressCallback
from .replicas import Counted, ReplicaPool
from .results import AttributionResult, BranchAttribution, SanityResult
from .sanity import check_blocks, randomisation_steps
from .settings import BASELINES, SANITY_BLOCKS, AttributionSettings

if TYPE_CHECKING:
    from ..inference import Engine

__all__ = ["Attributor"]

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


def _private_input(x: Tensor) -> Tensor:
    """Validate ``x`` and return a private copy.

    The copy matters: Captum sets ``requires_grad`` on its input and resets it when done, so two calls sharing one
    tensor (e.g. two threads explaining the same photo) would switch gradients off under each other.
    """
    if x.dim() != 4 or x.shape[0] != 1 or x.shape[1] != 3:
        raise ValueError(f"expected one image as a 1 x 3 x H x W tensor, got {tuple(x.shape)}")
    if torch.is_inference_mode_enabled():
        # Tensors made under inference_mode can never take part in autograd.
        raise RuntimeError("attributions need gradients: do not call them inside torch.inference_mode()")
    return x.detach().clone()


def _size(x: Tensor) -> tuple[int, int]:
    return int(x.shape[-2]), int(x.shape[-1])


class _Run(NamedTuple):
    map: np.ndarray  # H x W: summed over colour channels (signed)
    attributions: np.ndarray  # C x H x W
    output: MethodOutput
    images: int  # images the method sent forward (checked against its declared cost in the tests)


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
    def for_engine(cls, engine: Engine, pool_size: int = 2,
                   throughput: Optional[Throughput] = None) -> "Attributor":
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
        return fit_to_budget(settings, None, self.throughput(), size)

    def fit_to_budget(self, settings: AttributionSettings, budget_s: Optional[float],
                      size: tuple[int, int] = (224, 224), *, multiplier: int = 1,
                      extra: Cost = Cost(0, 0)) -> Estimate:
        """:func:`.planning.fit_to_budget` with this machine's throughput (measured only when there is a budget
        or it was measured already: an estimate nobody asked for costs no calibration run)."""
        throughput = self.throughput() if budget_s is not None or self._throughput is not None else None
        return fit_to_budget(settings, budget_s, throughput, size, multiplier=multiplier, extra=extra)

    # --- helpers ---------------------------------------------------------------------------------------------

    def baseline(self, x: Tensor, kind: str) -> Tensor:
        """The ``kind`` baseline ("black", "mean", "blur") for ``x``, in this attributor's normalization."""
        return make_baseline(x, kind, self.spec)

    @staticmethod
    def _resolve_target(replica: Counted, x: Tensor, target: Optional[int]) -> int:
        with torch.no_grad():
            logits = replica(x)  # 1 x num_classes
        if target is None:
            return int(logits.argmax(dim=1))
        num_classes = int(logits.shape[1])
        if not 0 <= int(target) < num_classes:
            raise AttributionError("errors.target_range", target=target, last=num_classes - 1)
        return int(target)

    def _run(self, replica: Counted, x: Tensor, s: AttributionSettings, target: int, tracker: Progress) -> _Run:
        """Run the method once on ``replica`` and sum its attributions over the colour channels."""
        out = s.spec.run(RunContext(replica, x, s, target, lambda kind: self.baseline(x, kind)))
        images = replica.images
        tracker.advance(images)
        replica.images = 0
        attributions = out.attributions.detach().float()  # 1 x C x H x W
        return _Run(attributions[0].sum(dim=0).cpu().numpy(), attributions[0].cpu().numpy(), out, images)

    # --- pixel attributions ----------------------------------------------------------------------------------

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
        size = _size(x)
        extra = faithfulness_cost(faithfulness_steps) if faithfulness_steps else Cost(0, 0)
        plan = self.fit_to_budget(settings, budget_s, size, extra=extra)
        s = plan.settings
        cost = declared_cost(s, size)
        notes: list[Message] = [plan.note] if plan.note else []
        start = time.perf_counter()
        tracker = Progress(progress, 1 + cost.forward + extra.forward, s.method)
        with self.pool.acquire() as replica, torch.enable_grad():
            replica.on_forward = tracker.report
            target = self._resolve_target(replica, x, target)
            tracker.advance(replica.images)
            replica.images = 0
            run = self._run(replica, x, s, target, tracker)
            attribution_map, out = run.map, run.output
            f_x = out.target_logit
            if f_x is None:  # not counted: a number for the report, not the method's work
                f_x = float(forward_logits(replica, x)[0, target])
            faith = None
            if faithfulness_steps:
                faith = deletion_insertion(replica, x, attribution_map, target, steps=faithfulness_steps,
                                           absolute=absolute_ranking, batch_size=s.internal_batch_size)
        elapsed = time.perf_counter() - start
        self._learn(cost + extra, elapsed)
        tracker.finish()
        if not np.isfinite(attribution_map).all():
            raise RuntimeError(f"{s.method} produced non-finite attributions")
        if not np.any(attribution_map):
            notes.append(Message("attributions.note.all_zero"))
        return AttributionResult(
            settings=s,
            target=target,
            attributions=run.attributions,
            map=attribution_map,
            cost=cost,
            counted_forward=run.images,
            elapsed_s=elapsed,
            convergence_delta=out.convergence_delta,
            target_logit=f_x,
            baseline_logit=out.baseline_logit,
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
        """For the target class: the attribution of each of the four branches of each of the nine modules
        (see :mod:`.branches`). ``values`` sums each branch's attribution over channels and positions; ``maps``
        keeps the channel sum per position, so each value is the sum of its map."""
        x = _private_input(x)
        if baseline not in BASELINES:
            raise AttributionError("errors.unknown_baseline", value=baseline, choices=", ".join(BASELINES))
        cost = branch_cost(method, preset, steps)
        start = time.perf_counter()
        tracker = Progress(progress, 1 + cost.forward, "branches")
        with self.pool.acquire() as replica, torch.enable_grad():
            replica.on_forward = tracker.report
            target = self._resolve_target(replica, x, target)
            tracker.advance(replica.images)
            replica.images = 0
            result = branch_maps(replica, x, target, method=method, preset=preset, steps=steps,
                                 base=self.baseline(x, baseline), internal_batch_size=internal_batch_size)
        values = np.stack([result.maps[m].reshape(len(BRANCHES), -1).sum(axis=1) for m in INCEPTION_MODULES])
        elapsed = time.perf_counter() - start
        self._learn(cost, elapsed)
        tracker.finish()
        return BranchAttribution(method=method, target=target, modules=INCEPTION_MODULES, branches=BRANCHES,
                                 values=values.astype(np.float64), maps=result.maps, cost=cost, elapsed_s=elapsed,
                                 deltas=result.deltas)

    # --- sanity check ----------------------------------------------------------------------------------------

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
        """Model-randomisation sanity check (see :mod:`.sanity`) for one method, on a private disposable copy.

        Low correlation = the map depends on the learned weights, as an explanation must.
        """
        x = _private_input(x)
        check_blocks(mode, blocks)
        size = _size(x)
        plan = self.fit_to_budget(settings, budget_s, size, multiplier=1 + len(blocks))
        s = plan.settings
        cost = declared_cost(s, size) * (1 + len(blocks))
        notes: list[Message] = [plan.note] if plan.note else []
        tracker = Progress(progress, 1 + cost.forward, f"sanity check ({s.method})")
        start = time.perf_counter()
        generator = torch.Generator().manual_seed(seed)
        replica = self.pool.fresh_copy()  # private and disposable: its weights get overwritten
        replica.on_forward = tracker.report
        try:
            with torch.enable_grad():
                target = self._resolve_target(replica, x, target)
                tracker.advance(replica.images)
                replica.images = 0

                def compute() -> np.ndarray:
                    return self._run(replica, x, s, target, tracker).map

                original = compute()
                steps = randomisation_steps(replica.model, original, compute, mode=mode, blocks=blocks,
                                            generator=generator)
        finally:
            replica.on_forward = None
            if hook_count(replica):
                log.error("hooks left on the sanity-check copy")
        elapsed = time.perf_counter() - start
        self._learn(cost, elapsed)
        tracker.finish()
        return SanityResult(settings=s, mode=mode, target=target, original=original, steps=steps, cost=cost,
                            elapsed_s=elapsed, notes=notes)
