"""How the app runs: every setting in one frozen object, read from the environment, then the command line.

``Settings.from_env()`` reads the ``GOOGLENET_*`` (and Gradio's and Spaces') variables; ``with_argv()`` applies the
command-line flags on top. Everything that depends on a setting (the device, the batching of ``/classify``, the
limits, the shared model objects) is decided from the final object, once, when the app is built: nothing reads
the environment behind its back later.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, replace
from typing import Mapping, Optional, Sequence

from googlenet.cli import add_weights_options
from googlenet.images import ImageLimits, ImageSettingError
from googlenet.inference import PRECISIONS

__all__ = ["Settings", "default_host"]

#: "1": batch /classify on any device (tests), "0": never; unset: on CUDA only.
CLASSIFY_BATCH_ENV = "GOOGLENET_CLASSIFY_BATCH"
#: "1": add the /debug_model_fingerprint endpoint (bench/load_test.py). Off by default.
DEBUG_ENDPOINTS_ENV = "GOOGLENET_DEBUG_ENDPOINTS"


def _flag(environ: Mapping[str, str], name: str) -> bool:
    return environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _whole(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImageSettingError("errors.setting_not_whole", name=name, value=raw) from None


def image_limits_from_env(environ: Mapping[str, str] = os.environ) -> ImageLimits:
    """The image limits (googlenet/images.py owns their defaults), each overridable by a variable."""
    default = ImageLimits()
    return ImageLimits(max_pixels=_whole(environ, "GOOGLENET_MAX_PIXELS", default.max_pixels),
                       max_jpeg_pixels=_whole(environ, "GOOGLENET_MAX_JPEG_PIXELS", default.max_jpeg_pixels),
                       max_decode_mb=_whole(environ, "GOOGLENET_MAX_DECODE_MB", default.max_decode_mb))


def _optional_flag(environ: Mapping[str, str], name: str) -> Optional[bool]:
    raw = environ.get(name, "").strip()
    return None if raw not in {"0", "1"} else raw == "1"


def default_host(environ: Mapping[str, str] = os.environ) -> str:
    """127.0.0.1 (this machine only) unless the host requires all interfaces: Hugging Face Spaces sets SPACE_ID."""
    if environ.get("GRADIO_SERVER_NAME"):
        return environ["GRADIO_SERVER_NAME"]
    return "0.0.0.0" if environ.get("SPACE_ID") else "127.0.0.1"


@dataclass(frozen=True)
class Settings:
    """Everything the app is started with. Immutable: a changed setting is a new object (``replace``)."""

    weights: Optional[str] = None  # a checkpoint file; None: torchvision's cache, then a download
    device: Optional[str] = None  # "cpu", "cuda", "cuda:1", "mps"; None: the best available
    allow_download: bool = True
    require_pretrained: bool = False
    aux_weights: Optional[str] = None  # a distill-aux file for the aux heads
    precision: str = "auto"  # googlenet.inference.PRECISIONS, for /classify (Engine.logits) only
    host: str = "127.0.0.1"
    port: int = 7860
    share: bool = False
    inbrowser: bool = False
    max_upload_mb: int = 50  # a 200 MP camera JPEG is 20-40 MB
    image_limits: ImageLimits = ImageLimits()  # what an upload may declare (pixels, decode memory)
    queue_size: int = 64
    cpu_fallback_s: float = 120.0  # ZeroGPU without a GPU: the CPU answers work estimated to fit in this long
    classify_batch: Optional[bool] = None  # dynamic batching of /classify; None: on CUDA only
    debug_endpoints: bool = False
    mcp_server: bool = False  # also serve the public endpoints as MCP tools (/gradio_api/mcp/)
    analytics: bool = False  # Gradio's telemetry: off unless GRADIO_ANALYTICS_ENABLED=True (classrooms are offline)
    features: Optional[str] = None  # feature visualizations (render-features, and the cache); None: ~/.cache/...
    features_cache_mb: int = 256  # the cap of that folder: the least recently used images go first

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "Settings":
        return cls(
            weights=environ.get("GOOGLENET_WEIGHTS") or None,
            device=environ.get("GOOGLENET_DEVICE") or None,
            allow_download=not _flag(environ, "GOOGLENET_NO_DOWNLOAD"),
            require_pretrained=_flag(environ, "GOOGLENET_REQUIRE_PRETRAINED"),
            aux_weights=environ.get("GOOGLENET_AUX_WEIGHTS") or None,
            precision=environ.get("GOOGLENET_PRECISION") or "auto",
            host=default_host(environ),
            port=int(environ.get("GRADIO_SERVER_PORT", "7860")),
            max_upload_mb=int(environ.get("GOOGLENET_MAX_UPLOAD_MB", "50")),
            image_limits=image_limits_from_env(environ),
            queue_size=int(environ.get("GOOGLENET_QUEUE_SIZE", "64")),
            cpu_fallback_s=float(environ.get("GOOGLENET_CPU_FALLBACK_S", "120")),
            classify_batch=_optional_flag(environ, CLASSIFY_BATCH_ENV),
            debug_endpoints=_flag(environ, DEBUG_ENDPOINTS_ENV),
            # Gradio's own switches, read with Gradio's own rules (a Space sets GRADIO_MCP_SERVER in its settings)
            mcp_server=environ.get("GRADIO_MCP_SERVER", "False").lower() == "true",
            analytics=environ.get("GRADIO_ANALYTICS_ENABLED", "False") == "True",
            features=environ.get("GOOGLENET_FEATURES") or None,
            features_cache_mb=_whole(environ, "GOOGLENET_FEATURES_CACHE_MB", 256),
        )

    def parser(self) -> argparse.ArgumentParser:
        """The command line, with this object's values as the defaults."""
        parser = argparse.ArgumentParser(prog="python app.py", description="GoogLeNet Explorer web app")
        add_weights_options(parser)
        parser.add_argument("--host", default=self.host,
                            help="address to bind (default 127.0.0.1, or 0.0.0.0 on Hugging Face Spaces where the "
                                 "proxy needs it; use 0.0.0.0 elsewhere only where the host requires it)")
        parser.add_argument("--port", type=int, default=self.port)
        parser.add_argument("--share", action="store_true", help="create a public gradio.live link (off by default)")
        parser.add_argument("--inbrowser", action="store_true", help="open a browser tab")
        parser.add_argument("--aux-weights", metavar="FILE",
                            help="aux heads made by `python -m googlenet distill-aux` (default: "
                                 "$GOOGLENET_AUX_WEIGHTS)")
        parser.add_argument("--max-upload-mb", type=int, default=self.max_upload_mb,
                            help="largest accepted upload in MB (larger ones get HTTP 413; default 50)")
        parser.add_argument("--queue-size", type=int, default=self.queue_size,
                            help="requests that may wait in the queue before new ones are turned away (default 64)")
        parser.add_argument("--precision", choices=PRECISIONS, default=None,
                            help="of /classify: auto (default: fp16 on CUDA, fp32 elsewhere), fp32, bf16 (faster on "
                                 "CPUs with AMX or avx512_bf16, probabilities move by a few hundredths), fp16 (CUDA). "
                                 "Branches, attributions and aux heads always run in fp32. Default "
                                 "$GOOGLENET_PRECISION")
        parser.add_argument("--mcp", action="store_true",
                            help="also serve the public endpoints as MCP tools for agents, at /gradio_api/mcp/ "
                                 "(default $GRADIO_MCP_SERVER)")
        parser.add_argument("--features", metavar="DIR",
                            help="feature visualizations made by `python -m googlenet render-features --out DIR`, "
                                 "also the cache of new ones (default $GOOGLENET_FEATURES, then "
                                 "~/.cache/googlenet-explorer/features)")
        parser.add_argument("--features-cache-mb", type=int, default=self.features_cache_mb,
                            help="size cap of that folder in MB; the least recently used go first (default 256)")
        return parser

    def with_argv(self, argv: Optional[Sequence[str]] = None) -> "Settings":
        """These settings with the command-line flags applied (``argv`` None: ``sys.argv[1:]``)."""
        args = self.parser().parse_args(argv)
        return replace(
            self,
            weights=args.weights or self.weights,
            device=args.device or self.device,
            allow_download=self.allow_download and not args.no_download,
            require_pretrained=self.require_pretrained or args.require_pretrained,
            aux_weights=args.aux_weights or self.aux_weights,
            precision=args.precision or self.precision,
            host=args.host,
            port=args.port,
            share=self.share or args.share,
            inbrowser=self.inbrowser or args.inbrowser,
            max_upload_mb=args.max_upload_mb,
            queue_size=args.queue_size,
            mcp_server=self.mcp_server or args.mcp,
            features=args.features or self.features,
            features_cache_mb=args.features_cache_mb,
        )
