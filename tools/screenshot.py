"""Screenshot pages of a running Assay in headless Debian chromium (for docs and review).

    python tools/screenshot.py http://127.0.0.1:8501/ out.png [--upload FILE] [--click TEXT]...
        [--wait-text TEXT] [--full] [--width 1400] [--height 1000]

Steps run in order: open the URL, optionally upload a file into the first file
uploader, click each button/tab named by --click, wait for --wait-text, shoot.
"""

from __future__ import annotations

import argparse
import shutil

from playwright.sync_api import expect, sync_playwright

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("out")
    parser.add_argument("--upload")
    parser.add_argument("--click", action="append", default=[])
    parser.add_argument("--wait-text", action="append", default=[])
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=1000)
    parser.add_argument("--settle", type=float, default=1.5)
    args = parser.parse_args()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=FLAGS)
        page = browser.new_page(viewport={"width": args.width, "height": args.height})
        page.goto(args.url, wait_until="domcontentloaded")
        page.wait_for_selector('[data-testid="stApp"]', timeout=30_000)
        page.wait_for_timeout(2000)
        if args.upload:
            page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(args.upload)
            page.wait_for_timeout(2500)
        for text in args.click:
            page.get_by_text(text, exact=True).first.click()
            page.wait_for_timeout(2000)
        for text in args.wait_text:
            expect(page.get_by_text(text).first).to_be_visible(timeout=60_000)
        page.wait_for_timeout(int(args.settle * 1000))
        page.screenshot(path=args.out, full_page=args.full)
        browser.close()


if __name__ == "__main__":
    main()
