"""``python -m descentlab`` is the ``descentlab`` command."""

import sys

from descentlab.cli import console

sys.exit(console())
