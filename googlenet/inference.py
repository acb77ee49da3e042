"""Inference: one read-only model per process, fast copies of it, top-k predictions.

The :class:`Engine` holds modules that are shared by every request and never modified after construction:

- ``reference``: the :class:`~googlenet.model.GoogLeNet` exactly as loaded (eval mode, parameters frozen); used by
  anything that needs the unfolded layers (the aux heads in train mode, the branch facts).
- ``fast``: the same function with each BatchNorm folded into its convolution (``torch.nn.utils.fusion``) and
  channels_last memory format: about twice as fast on CPU, equal within 1e-4 (tested). Same layers and module
  names as ``reference``, differentiable: the branch capture and the attributions use it.
- ``inference``: what :meth:`Engine.logits` runs. On the CPU, a :class:`~googlenet.optimize.InferenceNet` built
  from ``fast`` (the three 1x1 convolutions that read each Inception module's input merged into one, weights
  prepacked for oneDNN with the ReLU fused): forward only, equal to ``fast`` within 1e-4 (checked when it is built
  and in the tests). Elsewhere it is ``fast`` itself.

Precision (``precision=``): ``"fp32"`` (the default on CPU: exact within 1e-4); ``"bf16"``: on the CPU an
InferenceNet with bfloat16 weights (fast only with native bf16: avx512_bf16 / AMX; it moves logits by up to ~10% of
the largest, see bench/benchmark.py), on a GPU bf16 autocast; ``"fp16"``: autocast, GPU only; ``"auto"``: fp16 on
CUDA (tensor cores), fp32 elsewhere. Autocast leaves the weights in fp32, so attribution replicas copied from
``fast`` stay fp32.

``compile_batch1=True`` (CUDA only, off by default) routes batch-1 forwards through ``torch.compile(mode=
"reduce-overhead")``, which records CUDA graphs: it removes the per-layer launch overhead that dominates a batch-1
forward on a large GPU. Not measured on a GPU yet (see README "Performance").
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn as nn
from PIL import Image
from torch import Tensor
from torch.nn.utils.fusion import fuse_conv_bn_eval

from .images import DEFAULT_LIMITS, ImageLimits, ImageNotice, ImageSource, load_image, open_image
from .labels import CATEGORIES
from .messages import KeyedError
from .model import ConvBlock, GoogLeNet
from .optimize import InferenceNet, build_inference_net
from .transforms import PREPROCESS, Preprocess, array_to_tensor, preprocess
from .weights import WeightsInfo, load_model, resolve_weights

__all__ = [
    "PRECISIONS",
    "DeviceError",
    "PrecisionError",
    "ClassScore",
    "Classification",
    "TopClasses",
    "Engine",
    "select_device",
    "fuse_batchnorm",
    "topk",
]

log = logging.getLogger(__name__)


class DeviceError(KeyedError, RuntimeError):
    """A device that this machine cannot provide (``--device cuda`` without CUDA)."""


class PrecisionError(KeyedError, ValueError):
    """A precision that is unknown or that the device cannot run (fp16 on a CPU)."""

PRECISIONS: tuple[str, ...] = ("auto", "fp32", "bf16", "fp16")
_AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def select_device(requested: Optional[str] = None) -> torch.device:
    """CUDA if available, else Apple's MPS, else CPU; ``requested`` ("cpu", "cuda", "cuda:1", "mps") overrides."""
    if requested:
        device = torch.device(requested)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise DeviceError("errors.device_unavailable", device=requested, kind="CUDA")
        if device.type == "mps" and not torch.backends.mps.is_available():
            raise DeviceError("errors.device_unavailable", device=requested, kind="MPS")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def fuse_batchnorm(model: GoogLeNet) -> GoogLeNet:
    """A copy of ``model`` (eval mode) with every ConvBlock's BatchNorm folded into its convolution.

    The copy computes the same function in eval mode with one layer fewer per block. The original is untouched.
    """
    if model.training:
        raise ValueError("BatchNorm can only be folded in eval mode (it uses the running statistics)")
    fused = copy.deepcopy(model)
    for module in fused.modules():
        if isinstance(module, ConvBlock):
            module.conv = fuse_conv_bn_eval(module.conv, module.bn)
            module.bn = nn.Identity()
    fused.eval()
    for p in fused.parameters():
        p.requires_grad_(False)
    return fused


@dataclass(frozen=True)
class ClassScore:
    index: int
    name: str
    probability: float


@dataclass(frozen=True)
class Classification:
    """The answer for one image."""

    top: list[ClassScore]  # best first
    crop: Image.Image  # the 224x224 pixels the network saw
    elapsed_ms: float  # preprocessing + forward pass
    device: str
    weights: WeightsInfo
    probabilities: np.ndarray = field(repr=False)  # all 1000 softmax probabilities
    notices: tuple[ImageNotice, ...] = ()  # things to tell the user about the input (animated, tiny, ...)

    def as_label_dict(self) -> dict[str, float]:
        return {score.name: score.probability for score in self.top}

    def to_json(self) -> dict:
        return {
            "top": [{"index": s.index, "name": s.name, "probability": s.probability} for s in self.top],
            "device": self.device,
            "elapsed_ms": round(self.elapsed_ms, 2),
            "weights": self.weights.description,
            "warning": self.weights.warning,
            "notices": [notice.key for notice in self.notices],
        }


@dataclass(frozen=True)
class TopClasses:
    """The lean answer for one camera frame: the top-k only (no crop, no 1000 probabilities)."""

    top: list[ClassScore]  # best first
    elapsed_ms: float  # preprocessing + forward pass

    def as_label_dict(self) -> dict[str, float]:
        return {score.name: score.probability for score in self.top}


def topk(probabilities: Tensor, k: int = 5) -> list[ClassScore]:
    """Top-k of one 1-D probability vector as :class:`ClassScore` objects."""
    values, indices = probabilities.float().topk(k)
    return [ClassScore(int(i), CATEGORIES[int(i)], float(v)) for v, i in zip(values, indices)]


class Engine:
    """Loaded weights + device + the shared read-only models. Thread-safe: requests only read it."""

    def __init__(
        self,
        model: GoogLeNet,
        weights: WeightsInfo,
        device: Optional[torch.device] = None,
        preprocess_spec: Preprocess = PREPROCESS,
        *,
        precision: str = "auto",
        compile_batch1: bool = False,
        image_limits: ImageLimits = DEFAULT_LIMITS,
    ) -> None:
        if precision not in PRECISIONS:
            raise PrecisionError("errors.unknown_precision", value=precision, choices=", ".join(PRECISIONS))
        self.device = device or select_device()
        self.weights = weights
        self.preprocess_spec = preprocess_spec
        self.image_limits = image_limits  # what an upload may declare (googlenet/images.py), checked on every decode
        model.eval()
        for p in model.parameters():
            p.requires_grad_(False)
        self.reference: GoogLeNet = model.to(self.device)
        # channels_last lets oneDNN (CPU) and cuDNN (GPU) pick their fastest convolution kernels.
        self.fast: GoogLeNet = fuse_batchnorm(model).to(self.device, memory_format=torch.channels_last)
        if precision == "auto":
            precision = "fp16" if self.device.type == "cuda" else "fp32"
        if precision == "fp16" and self.device.type == "cpu":
            raise PrecisionError("errors.fp16_on_cpu")
        self.precision: str = precision
        self.inference: nn.Module = self.fast
        if self.device.type == "cpu":
            dtype = torch.bfloat16 if precision == "bf16" else torch.float32
            self.inference = build_inference_net(self.fast, dtype=dtype)
        # batch-1 path through torch.compile + CUDA graphs; built lazily on first use (compiling takes seconds).
        self._compile_batch1 = compile_batch1 and self.device.type == "cuda"
        if compile_batch1 and not self._compile_batch1:
            log.warning("compile_batch1 needs CUDA; ignored on %s", self.device.type)
        self._compiled: Optional[nn.Module] = None
        self._compile_lock = threading.Lock()

    @classmethod
    def from_options(
        cls,
        weights_path: Optional[str] = None,
        *,
        device: Optional[str] = None,
        allow_download: bool = True,
        require_pretrained: bool = False,
        precision: str = "auto",
        compile_batch1: bool = False,
        image_limits: ImageLimits = DEFAULT_LIMITS,
    ) -> "Engine":
        info = resolve_weights(weights_path, allow_download=allow_download, require_pretrained=require_pretrained)
        return cls(load_model(info), info, select_device(device), precision=precision, compile_batch1=compile_batch1,
                   image_limits=image_limits)

    @property
    def device_name(self) -> str:
        """The device, and the precision when it is not float32 (shown with every answer)."""
        name = self.device.type
        if self.device.type == "cuda":
            name = f"cuda ({torch.cuda.get_device_name(self.device)})"
        return name if self.precision == "fp32" else f"{name}, {self.precision}"

    @property
    def inference_description(self) -> str:
        """What :meth:`logits` runs, in a few words (for logs, the benchmark and the about text)."""
        net = self.inference
        if isinstance(net, InferenceNet):
            kernels = "oneDNN-packed" if net.packed else "plain conv2d"
            dtype = "bf16" if net.dtype == torch.bfloat16 else "fp32"
            return f"merged 1x1 convs, {kernels}, {dtype}"
        text = f"BatchNorm folded + channels_last, {self.precision}"
        return text + (" + CUDA graphs at batch 1" if self._compile_batch1 else "")

    def prepare(self, source: ImageSource) -> tuple[Image.Image, Tensor]:
        """Open, orient and crop an image: (224x224 crop, 1 x 3 x 224 x 224 tensor on this engine's device)."""
        crop, x = preprocess(open_image(source, self.image_limits), self.preprocess_spec)
        return crop, x.to(self.device)

    def _autocast(self):
        dtype = _AUTOCAST_DTYPES.get(self.precision)
        if dtype is None or self.device.type == "cpu":  # the CPU inference net carries its own dtype
            return nullcontext()
        return torch.autocast(self.device.type, dtype=dtype)

    def _batch1_model(self) -> nn.Module:
        """The compiled model for batch-1 CUDA forwards (built once, thread-safe), else ``inference``."""
        if not self._compile_batch1:
            return self.inference
        with self._compile_lock:
            if self._compiled is None:
                # reduce-overhead = CUDA graphs: replays the whole forward as one launch. The compiled module
                # wraps ``fast`` without changing it.
                self._compiled = torch.compile(self.fast, mode="reduce-overhead", dynamic=False)
            return self._compiled

    @torch.inference_mode()
    def logits(self, x: Tensor) -> Tensor:
        """Main-head logits of the inference model: N x 3 x H x W -> N x 1000 (float32, on CPU)."""
        x = x.to(self.device).contiguous(memory_format=torch.channels_last)
        model = self._batch1_model() if x.shape[0] == 1 else self.inference
        with self._autocast():
            out = model(x)  # N x 1000
        return out.float().cpu()

    def top_classes(self, frame: "Image.Image | np.ndarray", k: int = 5) -> TopClasses:
        """Top-k for one decoded RGB frame (the live camera): a PIL image (what the decoder gives) through the
        usual crop, or an H x W x 3 uint8 array through :func:`~googlenet.transforms.array_to_tensor`; one forward
        pass of ``inference``, no crop kept, no 1000 probabilities. Measured on a 640x480 frame, 2 threads, quiet
        machine: PIL path 2.1 ms, torch array path 5.8 ms (bench/sections/live.py), so the live view passes PIL."""
        start = time.perf_counter()
        if isinstance(frame, Image.Image):
            _, x = preprocess(frame, self.preprocess_spec)  # 1 x 3 x 224 x 224
        else:
            x = array_to_tensor(frame, self.preprocess_spec)  # 1 x 3 x 224 x 224
        probabilities = self.logits(x)[0].softmax(dim=0)  # 1000
        return TopClasses(topk(probabilities, k), (time.perf_counter() - start) * 1000.0)

    def classify(self, source: ImageSource, k: int = 5) -> Classification:
        """Top-k for one photo: the safe decode, the 224x224 crop, one forward pass (a batch of one)."""
        return self.classify_batch([source], k)[0]

    def classify_batch(self, sources: Sequence[ImageSource], k: int = 5) -> list[Classification]:
        """Like :meth:`classify` for each source, with ONE forward pass for all of them (what pays on a GPU).

        Every image is decoded and cropped to 224x224 independently, so the answers equal per-image
        :meth:`classify` (within float tolerance). ``elapsed_ms`` is the whole batch's time, shared.
        """
        if not sources:
            return []
        start = time.perf_counter()
        loaded = [load_image(source, self.image_limits) for source in sources]
        prepared = [self.prepare(item.image) for item in loaded]  # the same steps as classify
        x = torch.cat([t for _, t in prepared])  # N x 3 x 224 x 224
        probabilities = self.logits(x).softmax(dim=1)  # N x 1000
        elapsed = (time.perf_counter() - start) * 1000.0
        return [
            Classification(
                top=topk(p, k),
                crop=crop,
                elapsed_ms=elapsed,
                device=self.device_name,
                weights=self.weights,
                probabilities=p.numpy(),
                notices=item.notices,
            )
            for (crop, _), item, p in zip(prepared, loaded, probabilities)
        ]
