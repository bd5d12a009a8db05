"""Re-make the README screenshots of the bundled sample with headless Chromium.

A manual step, not a test: needs the Debian package ``chromium`` and Pillow
(installed with the ``plot`` extra). Run from the repository root::

    .venv/bin/python docs/make_screenshots.py
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from PIL import Image, ImageChops

from policy_topics import Extractor
from policy_topics.display import highlight, render

ROOT = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT = 1072, 2400


def shoot(page: str, out: Path, workdir: Path) -> None:
    """Screenshot an HTML page, then crop the empty background under it."""
    source = workdir / (out.stem + ".html")
    source.write_text(page, encoding="utf-8")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("needs chromium: apt-get install -y chromium")
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={workdir / 'profile'}",
            f"--screenshot={out}",
            f"--window-size={WIDTH},{HEIGHT}",
            source.as_uri(),
        ],
        check=True,
        capture_output=True,
    )
    with Image.open(out) as image:
        rgb = image.convert("RGB")
    background = Image.new("RGB", rgb.size, rgb.getpixel((rgb.width - 1, rgb.height - 1)))
    box = ImageChops.difference(rgb, background).getbbox()
    if box is not None:
        rgb = rgb.crop((0, 0, rgb.width, min(rgb.height, box[3] + 24)))
    rgb.quantize(256).save(out, optimize=True)  # a UI has few colours: 4x smaller


def main() -> None:
    text = (ROOT / "examples" / "sample-policy-paper.txt").read_text(encoding="utf-8")
    extractor = Extractor()
    result = extractor.extract(text, doc_id="sample-policy-paper.txt")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        shoot(render(result, standalone=True), ROOT / "docs" / "sample-result.png", workdir)
        shoot(highlight(text, result=result), ROOT / "docs" / "sample-highlight.png", workdir)


if __name__ == "__main__":
    main()
