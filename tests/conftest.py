"""Puts ``tests/`` on sys.path so tests can import course_reference and helpers."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
