"""The exporter's defaults, in a module light enough for the command line to import."""

DEFAULT_PORT = 9868  # not registered in Prometheus's list of exporter ports; --listen changes it
DEFAULT_MAX_SERIES = 200  # objects of each kind with series of their own
DEFAULT_INTERVAL = 1.0  # seconds: scrapes closer than this share one scan
