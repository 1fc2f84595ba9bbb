"""``python -m descentlab`` is the ``descentlab`` command."""

import sys

from descentlab.cli import main

sys.exit(main())
