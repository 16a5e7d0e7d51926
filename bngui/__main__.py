"""``python -m bngui`` does what the ``bngui`` command does."""

import sys

from bngui.cli import main

sys.exit(main())
