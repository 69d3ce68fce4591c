"""Scanners observe and measure; rules decide what is a finding. See `interface.py`."""
