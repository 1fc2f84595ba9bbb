"""Puts ``tests/`` on sys.path so tests can import course_reference and helpers, and makes the
property tests reproducible."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))

# The property tests draw the same examples on every run (CI included), so a failure is
# reproducible; explore further with `pytest --hypothesis-profile=explore`.
settings.register_profile("descentlab", derandomize=True)
settings.register_profile("explore", max_examples=1000)
settings.load_profile("descentlab")
