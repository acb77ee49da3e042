"""One decorator for every event of the page: request language, keyed errors, memory release, concurrency group.

A handler is written as plain code that receives the reader's language::

    @endpoint(heavy=True)
    def attribute(self, image: Optional[str], method: str, *, lang: str,
                  progress: gr.Progress = gr.Progress()) -> tuple[...]:
        ...

and :func:`endpoint` turns it into what Gradio calls:

- **language**: Gradio sees a ``request: gr.Request`` parameter in place of ``lang`` (the wrapper's
  ``__signature__``), injects the request, and the handler gets ``lang`` from its Accept-Language header;
- **errors**: a :class:`googlenet.messages.KeyedError` (bad image, bad settings, a budget that cannot be met)
  becomes a ``gr.Error`` in the reader's language; anything unexpected is logged with its traceback and answered
  with a translated "something went wrong" (internal details never reach the page: ``show_error`` is off);
- **memory**: after an expensive event, freed memory goes back to the OS on a background thread
  (:func:`googlenet.memory.release_free_memory_soon`);
- **concurrency**: ``heavy=True`` puts the event in the shared HEAVY group, whose limit
  :func:`webui.limits.apply_limits` sets; :func:`wire` reads it when the event is attached.

Generator handlers (progressive outputs) are wrapped as generators, so Gradio still streams them.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional, TypeVar

import gradio as gr

from googlenet.memory import release_free_memory_soon
from googlenet.messages import KeyedError, Message

from .i18n import request_language, tr
from .limits import HEAVY

__all__ = ["EndpointOptions", "endpoint", "wire", "named", "user_error"]

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class EndpointOptions:
    heavy: bool  # in the HEAVY concurrency group (one shared limit for every expensive event)
    trims_memory: bool  # hand freed memory back to the OS after each call


def user_error(message: Message | str, lang: str) -> gr.Error:
    """A message for the page (and for API clients), in the reader's language, under a translated heading."""
    text = message.text(lang) if isinstance(message, Message) else message
    return gr.Error(text, title=tr("common.toast_error", lang), print_exception=False)


def _translated(exc: Exception, lang: str, name: str) -> gr.Error:
    if isinstance(exc, KeyedError):
        log.info("%s: rejected input: %s", name, exc)
        return user_error(exc.message, lang)
    log.error("%s failed", name, exc_info=exc)
    return user_error(Message("errors.internal"), lang)


def _public_signature(fn: Callable) -> tuple[inspect.Signature, bool, bool]:
    """What Gradio should see: ``lang`` replaced by ``request: gr.Request``, and a keyword-only ``progress`` made
    positional (Gradio fills only positional parameters: the inputs, then the special ones)."""
    signature = inspect.signature(fn)
    takes_lang = "lang" in signature.parameters
    has_request = "request" in signature.parameters
    params = []
    for p in signature.parameters.values():
        if p.name == "lang":
            continue
        if p.kind is inspect.Parameter.KEYWORD_ONLY:
            if not isinstance(p.default, gr.Progress):
                raise TypeError(f"{fn.__qualname__}: only `lang` and a gr.Progress may be keyword-only")
            p = p.replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD)
        params.append(p)
    if not has_request:
        request = inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
                                    annotation=gr.Request)
        where = next((i for i, p in enumerate(params) if isinstance(p.default, gr.Progress)), len(params))
        params.insert(where, request)
    return signature.replace(parameters=params), takes_lang, has_request


def endpoint(*, heavy: bool = False, trims_memory: Optional[bool] = None) -> Callable[[F], F]:
    """Make ``fn`` a page event (see the module docstring). ``trims_memory`` defaults to ``heavy``."""
    options = EndpointOptions(heavy=heavy, trims_memory=heavy if trims_memory is None else trims_memory)

    def decorate(fn: F) -> F:
        public, takes_lang, has_request = _public_signature(fn)

        def call_args(args: tuple, kwargs: dict) -> tuple[dict, str]:
            # Everything by name: the handler's own signature decides what is positional or keyword-only.
            arguments = dict(public.bind(*args, **kwargs).arguments)
            lang = request_language(arguments.get("request"))
            if not has_request:
                arguments.pop("request", None)
            if takes_lang:
                arguments["lang"] = lang
            return arguments, lang

        @contextlib.contextmanager
        def handled(lang: str) -> Iterator[None]:
            try:
                yield
            except gr.Error:
                raise
            except Exception as exc:
                raise _translated(exc, lang, fn.__qualname__) from exc
            finally:
                if options.trims_memory:
                    release_free_memory_soon()

        if inspect.isgeneratorfunction(fn):  # Gradio streams generators: the wrapper must be one too
            @functools.wraps(fn)
            def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
                arguments, lang = call_args(args, kwargs)
                with handled(lang):
                    yield from fn(**arguments)
        else:
            @functools.wraps(fn)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                arguments, lang = call_args(args, kwargs)
                with handled(lang):
                    return fn(**arguments)

        # Gradio reads the signature (inputs, gr.Request, gr.Progress) and the type hints of what it calls.
        wrapper.__signature__ = public  # type: ignore[attr-defined]
        annotations = {k: v for k, v in getattr(fn, "__annotations__", {}).items() if k != "lang"}
        if not has_request:
            annotations["request"] = gr.Request
        wrapper.__annotations__ = annotations
        wrapper.endpoint_options = options  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def named(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    """``fn`` under another ``__name__`` (same signature, docstring, options; a generator stays a generator).

    Gradio's MCP server names each tool after its function (``gradio/mcp.py`` ``get_tool_to_endpoint``), so a
    public endpoint is given its API name: agents see the same names as the API docs and gradio_client."""
    if getattr(fn, "__name__", None) == name:
        return fn
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def renamed(*args: Any, **kwargs: Any) -> Any:
            yield from fn(*args, **kwargs)
    else:
        @functools.wraps(fn)
        def renamed(*args: Any, **kwargs: Any) -> Any:
            return fn(*args, **kwargs)
    renamed.__name__ = name
    # what Gradio reads: the signature of what it calls (a bound method's has no ``self``, which wraps would copy)
    renamed.__signature__ = inspect.signature(fn)  # type: ignore[attr-defined]
    return renamed


def wire(listener: Callable[..., Any], fn: Callable[..., Any], inputs: Any, outputs: Any, *,
         api_name: Optional[str] = None, **kwargs: Any) -> Any:
    """Attach an :func:`endpoint` to an event listener (``button.click``, ``image.change``...).

    ``api_name`` names a public API endpoint, which is also an MCP tool of that name when the app serves MCP (its
    docstring tells an agent what it computes: a description, then ``Args:`` with one line per parameter and
    ``Returns:``, as Gradio parses them). Without ``api_name`` the event is private (the page's own wiring: neither
    in the API nor a tool). Heavy endpoints join the HEAVY concurrency group.
    """
    options: Optional[EndpointOptions] = getattr(fn, "endpoint_options", None)
    if options is None:
        raise TypeError(f"{getattr(fn, '__qualname__', fn)!r} is not an @endpoint: every event goes through one")
    if options.heavy:
        kwargs.setdefault("concurrency_id", HEAVY)
    if api_name is None:
        kwargs.setdefault("api_visibility", "private")
    else:
        kwargs["api_name"] = api_name
        fn = named(fn, api_name)
    return listener(fn, inputs=inputs, outputs=outputs, **kwargs)

