"""Bundled, dated price catalogs and the user's overrides. See `catalog.py`."""
