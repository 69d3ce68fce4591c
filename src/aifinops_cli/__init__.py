"""aifinops: audit what AI workloads really cost and find the money that leaks out of them."""

__version__ = "0.1.0"
