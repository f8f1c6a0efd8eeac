"""Make the README's screenshots from the lab demo (run by hand: python screenshots/make.py).

Every image is the real app driven by Textual's Pilot against the built-in lab; nothing is drawn
by hand. The scenes are in scenes.py (the same ones tests/ui/test_scenes.py keeps as snapshots);
the SVGs land beside this script.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from scenes import SCENES, SIZE  # noqa: E402


async def main() -> None:
    for name, (make, play) in SCENES.items():
        app = make()
        async with app.run_test(size=SIZE) as pilot:
            await play(app, pilot)
            app.save_screenshot(f"{name}.svg", path=str(HERE))
        print(f"made {name}")


if __name__ == "__main__":
    asyncio.run(main())
