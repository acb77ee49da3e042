"""One module per tab of the page: each holds the tab's events (``@endpoint`` methods) and its layout (``build``)."""
