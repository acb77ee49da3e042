"""Command line: ``python -m googlenet predict PHOTO... [--json]``, ``download-weights``, ``distill-aux``,
``render-features``.

Subcommands register themselves in :data:`COMMANDS` with the ``@command`` decorator.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Callable, Optional, Sequence

__all__ = ["main", "build_parser", "add_weights_options", "COMMANDS"]

log = logging.getLogger("googlenet")

Configure = Callable[[argparse.ArgumentParser], None]
Run = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, tuple[str, Configure, Run]] = {}


def command(name: str, help_text: str, configure: Configure) -> Callable[[Run], Run]:
    def register(run: Run) -> Run:
        COMMANDS[name] = (help_text, configure, run)
        return run

    return register


def add_weights_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by every command that loads the model (the app uses the same ones)."""
    parser.add_argument("--weights", metavar="PATH", help="weights file (default: $GOOGLENET_WEIGHTS, then cache)")
    parser.add_argument("--device", help="cpu, cuda, cuda:N or mps (default: best available)")
    parser.add_argument("--no-download", action="store_true", help="never try to download the official weights")
    parser.add_argument(
        "--require-pretrained",
        action="store_true",
        help="refuse to start with untrained weights when no pretrained weights can be found",
    )


def _configure_predict(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("photos", nargs="+", metavar="PHOTO", help="image files to classify")
    parser.add_argument("--top", type=int, default=5, help="how many classes to show (default 5)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    add_weights_options(parser)


@command("predict", "top-5 ImageNet classes for each photo", _configure_predict)
def _predict(args: argparse.Namespace) -> int:
    from .images import ImageInputError
    from .inference import Engine

    engine = Engine.from_options(
        args.weights,
        device=args.device,
        allow_download=not args.no_download,
        require_pretrained=args.require_pretrained,
    )
    results, failures = [], 0
    for photo in args.photos:
        try:
            result = engine.classify(photo, k=args.top)
        except (ImageInputError, OSError) as exc:
            failures += 1
            log.error("%s: %s", photo, exc)
            results.append({"file": photo, "error": str(exc)})
            continue
        results.append({"file": photo, **result.to_json()})

    if args.json:
        json.dump({"weights": engine.weights.description, "device": engine.device_name, "results": results},
                  sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        if engine.weights.warning:
            print(f"WARNING: {engine.weights.warning}")
        print(f"weights: {engine.weights.description}; device: {engine.device_name}")
        for item in results:
            print(f"\n{item['file']}")
            if "error" in item:
                print(f"  error: {item['error']}")
                continue
            for rank, score in enumerate(item["top"], 1):
                print(f"  {rank}. {score['name']:<32} {score['probability'] * 100:6.2f}%  (class {score['index']})")
            print(f"  ({item['elapsed_ms']:.1f} ms)")
    return 1 if failures else 0


def _configure_download(parser: argparse.ArgumentParser) -> None:
    pass


@command("download-weights", "download the official weights once into torchvision's cache", _configure_download)
def _download(args: argparse.Namespace) -> int:
    from .weights import OFFICIAL_SHA256_PREFIX, cache_path, download_official, sha256_of

    path = cache_path()
    if not path.is_file():
        path = download_official(progress=True)
    digest = sha256_of(path)
    verified = digest.startswith(OFFICIAL_SHA256_PREFIX)
    print(f"{path}\nsha256 {digest} ({'verified' if verified else 'DOES NOT MATCH the official hash'})")
    print("To use it on a machine without internet, copy this file to the same place there "
          "($TORCH_HOME/hub/checkpoints/, by default ~/.cache/torch/hub/checkpoints/) or pass --weights PATH.")
    return 0 if verified else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m googlenet", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, configure, run) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        configure(p)
        p.set_defaults(run=run)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return args.run(args)
    except Exception as exc:  # report cleanly, with the traceback only in verbose mode
        log.error("%s", exc, exc_info=args.verbose)
        return 2


def _configure_distill(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--images", required=True, metavar="DIR", help="folder of images (searched recursively)")
    parser.add_argument("--out", required=True, metavar="FILE", help="where to save the aux heads (e.g. aux.pt)")
    parser.add_argument("--epochs", type=int, default=10, help="total epochs (default 10)")
    parser.add_argument("--batch-size", type=int, default=32, help="images per step (default 32)")
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    parser.add_argument("--temperature", type=float, default=2.0,
                        help="softmax temperature for the main head's soft targets (default 2)")
    parser.add_argument("--seed", type=int, default=0, help="seed for shuffling and dropout (default 0)")
    parser.add_argument("--checkpoint", metavar="PATH",
                        help="checkpoint written after every epoch (default: FILE.ckpt next to --out)")
    parser.add_argument("--resume", action="store_true", help="continue from --checkpoint if it exists")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_weights_options(parser)


@command("distill-aux", "train the two aux heads (trunk frozen) to match the main head's soft predictions",
         _configure_distill)
def _distill(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .distill import DistillConfig, run_distillation
    from .inference import select_device
    from .weights import load_model, resolve_weights

    info = resolve_weights(args.weights, allow_download=not args.no_download,
                           require_pretrained=args.require_pretrained)
    if not info.pretrained:
        log.warning("distilling aux heads for UNTRAINED weights: the result only imitates a random network")
    device = select_device(args.device)
    out = Path(args.out).expanduser()
    checkpoint = Path(args.checkpoint).expanduser() if args.checkpoint else out.with_name(out.name + ".ckpt")
    config = DistillConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                           temperature=args.temperature, seed=args.seed)
    result = run_distillation(Path(args.images), out, load_model(info), info, config=config, device=device,
                              checkpoint=checkpoint, resume=args.resume, progress=not args.no_progress)
    print(f"{out}: aux heads distilled, {result.epochs} epoch(s) in total, on {device.type}; "
          f"loss {result.initial_loss:.4f} -> {result.final_loss:.4f}")
    return 0


def _configure_render_features(parser: argparse.ArgumentParser) -> None:
    from .features.settings import DEFAULT_SIZE, DEFAULT_STEPS

    parser.add_argument("--modules", required=True,
                        help="comma-separated Inception modules, e.g. inception4a,inception4b")
    parser.add_argument("--out", required=True, metavar="DIR",
                        help="the folder to fill (the app reads it with --features DIR); an existing one is resumed")
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS, help=f"steps per image (default {DEFAULT_STEPS}; "
                        "the app finds only images rendered with the settings it is asked for)")
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE, help=f"image size in pixels (default {DEFAULT_SIZE})")
    parser.add_argument("--seed", type=int, default=0, help="seed (default 0, the app's default)")
    parser.add_argument("--max-mb", type=int, default=4096, help="size cap of the folder in MB (default 4096)")
    parser.add_argument("--limit", type=int, default=None, help="stop after rendering this many units")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_weights_options(parser)


@command("render-features", "precompute the feature visualization of every unit of some modules",
         _configure_render_features)
def _render_features(args: argparse.Namespace) -> int:
    from .features import FeatureCache, FeatureSettings, weights_id
    from .features.precompute import render_features, units_of
    from .inference import Engine

    engine = Engine.from_options(args.weights, device=args.device, allow_download=not args.no_download,
                                 require_pretrained=args.require_pretrained)
    if engine.weights.warning:
        log.warning("rendering for UNTRAINED weights: the images show what random filters respond to")
    settings = FeatureSettings.checked("channel", args.steps, args.size, args.seed)
    modules = [m.strip() for m in args.modules.split(",") if m.strip()]
    cache = FeatureCache(args.out, max_bytes=args.max_mb * 1024 * 1024)
    summary = render_features(engine.fast, weights_id(engine), units_of(engine.fast, modules), cache, settings,
                              progress=not args.no_progress, limit=args.limit)
    print(f"{cache.root}: {summary.rendered} rendered, {summary.skipped} already there, "
          f"{summary.seconds:.1f} s on {engine.device_name}")
    return 0
