"""Logos for the demo's issuers, drawn here so that the repository holds no image files: a
crest (a shield in the issuer's colours with an open book), as a transparent PNG."""

import io

from PIL import Image, ImageDraw

SIZE = 360
# Drawn larger, then scaled down: Pillow's shapes have no anti-aliasing of their own.
SCALE = 4


def demo_logo_png(*, primary_color: str, accent_color: str) -> bytes:
    side = SIZE * SCALE
    image = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)

    def at(*points: tuple[float, float]) -> list[tuple[float, float]]:
        return [(x * side, y * side) for x, y in points]

    shield = at((0.14, 0.06), (0.86, 0.06), (0.86, 0.52), (0.5, 0.96), (0.14, 0.52))
    draw.polygon(shield, fill=accent_color)
    inner = at((0.19, 0.11), (0.81, 0.11), (0.81, 0.5), (0.5, 0.88), (0.19, 0.5))
    draw.polygon(inner, fill=primary_color)
    # The open book: two pages meeting at the spine, each with three lines of text.
    draw.polygon(at((0.27, 0.3), (0.49, 0.35), (0.49, 0.62), (0.27, 0.57)), fill="white")
    draw.polygon(at((0.51, 0.35), (0.73, 0.3), (0.73, 0.57), (0.51, 0.62)), fill="white")
    line = max(1, side // 90)
    for step in range(3):
        y = 0.39 + step * 0.06
        draw.line(at((0.31, y), (0.45, y + 0.03)), fill=primary_color, width=line)
        draw.line(at((0.55, y + 0.03), (0.69, y)), fill=primary_color, width=line)
    # A star above the book.
    draw.regular_polygon((0.5 * side, 0.2 * side, 0.045 * side), 5, fill=accent_color)
    buffer = io.BytesIO()
    image.resize((SIZE, SIZE), Image.Resampling.LANCZOS).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
