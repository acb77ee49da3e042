"""The web page: the only package that imports gradio.

- :mod:`.settings`: every setting, from the environment then the command line;
- :mod:`.services`: the shared engine, aux heads and attributor, built once from the final settings;
- :mod:`.endpoint`: the one decorator every event goes through (language, errors, memory, concurrency);
- :mod:`.i18n`: the locale files as ``gr.I18n`` and ``tr``; :mod:`.limits`: every limit;
- :mod:`.components`, :mod:`.gradio_fixes`: our photo input, and fixes to Gradio installed at build time;
- :mod:`.layout` and :mod:`.tabs`: the page, one module per tab; :mod:`.server`: build and launch.

This file imports nothing: ``app.py`` imports :mod:`.zerogpu` before anything imports torch (ZeroGPU needs that).
"""
