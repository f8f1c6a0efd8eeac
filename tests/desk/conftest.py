"""The desk tests share `desk_support` (a scenario's lab with a walk driver over it)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
