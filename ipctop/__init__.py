"""ipctop: a top-like monitor and inspector for Linux inter-process communication."""

__version__ = "0.1.0"
