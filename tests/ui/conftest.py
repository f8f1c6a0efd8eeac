"""The Pilot tests share `ui_support` (an app on a scenario, waiting for what it shows), and run
the app with the garbage collector tuned as its entry point tunes it (`tune_gc`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from textual._styles_cache import StylesCache

from mxtui.ui.launch import tune_gc

sys.path.insert(0, str(Path(__file__).parent))
tune_gc()  # as `mxtui` runs the app (mxtui.ui.launch.run_app)


@pytest.fixture(autouse=True)
def forget_textuals_pinned_styles_caches():
    """Each test starts with none of the previous tests' widgets kept alive.

    Textual 8 caches `StylesCache.get_inner_outer` with `functools.lru_cache` on the instance
    method, so the cache pins up to 1024 StylesCache objects of widgets long gone, each with
    the lines it rendered (Textual issue #6665, open). Across tests/ui that kept some 300,000
    objects alive, which every full collection of the garbage collector then walked: 9.6 s of
    the suite's 38 s CPU went to collections, 7.1 s once each test starts from an empty cache."""
    yield
    StylesCache.get_inner_outer.cache_clear()
