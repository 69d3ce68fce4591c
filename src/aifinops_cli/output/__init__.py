"""Output formats, chosen by name (`--format`). See `interface.py`."""
