"""Where the tests find the checkout and their data, whatever folder a test sits in."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = ROOT / "tests" / "data"
