"""Developer tooling shared by the benchmark, the load test and the test suite (not part of the app).

- :mod:`bench.launcher`: start the app (a subprocess, or in this process) on a free loopback port;
- :mod:`bench.random_weights`: random GoogLeNet checkpoints with calibrated BatchNorm statistics;
- :mod:`bench.sections`: the measurements of ``bench/benchmark.py``, one module per section;
- ``bench/load_test.py``, ``bench/floor_app.py``, ``bench/gpu_check.sh``: see docs/performance.md.
"""
