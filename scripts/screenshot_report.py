"""A PNG of a run's HTML report as a reader sees it, for the README.

    python scripts/screenshot_report.py reports/examples docs/report.png [--width 1280] [--height 2200]

Uses headless Chromium (Debian: ``apt-get install chromium``); the top of the page (verdict,
summary, cost vs quality) at a laptop's width.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=2200)
    args = parser.parse_args()
    browser = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
    if browser is None:
        sys.exit("no headless Chromium found: apt-get install chromium")
    page = (args.run_dir / "report.html").resolve()
    if not page.is_file():
        sys.exit(f"{page}: not found; run promptkit eval (or promptkit report RUN) first")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--window-size={args.width},{args.height}", f"--screenshot={args.out.resolve()}", page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
