"""An issuer's branding on the transcripts it renders: a logo and two colours.

The logo is an upload that we embed in official documents and serve back to the
organization's administrators, so it is checked hard before anything is stored: PNG or JPEG
only, known by its first bytes and confirmed by decoding it whole with Pillow; at most
MAX_LOGO_BYTES, and at most MAX_LOGO_PIXELS, read from the header before any decoding (a
small compressed file can declare an image that takes gigabytes to decode). SVG is refused:
it is a document that can carry scripts and fetch other files, not a picture.
"""

import io
import re
import struct
from dataclasses import dataclass

from django.utils.translation import gettext as _
from PIL import Image

from credshare.core.errors import ApplicationError

MAX_LOGO_BYTES = 512 * 1024
MAX_LOGO_PIXELS = 4_000_000
# Today's transcript header blue, and a muted gold for the rules.
DEFAULT_PRIMARY_COLOR = "#1f4e8c"
DEFAULT_ACCENT_COLOR = "#b08d3c"
COLOR_PATTERN = re.compile(r"#[0-9a-f]{6}\Z")


@dataclass(frozen=True)
class LogoFormat:
    pillow_name: str
    signature: bytes
    extension: str
    content_type: str


LOGO_FORMATS = (
    LogoFormat("PNG", b"\x89PNG\r\n\x1a\n", "png", "image/png"),
    LogoFormat("JPEG", b"\xff\xd8\xff", "jpg", "image/jpeg"),
)
CONTENT_TYPES = {f.extension: f.content_type for f in LOGO_FORMATS}


def _rejected(message: str, code: str) -> ApplicationError:
    return ApplicationError(message, code=code, field="logo")


def color_clean(value: str, *, default: str, field: str) -> str:
    """VALUE as a lowercase #rrggbb colour; DEFAULT when it is empty."""
    value = (value or "").strip().lower()
    if not value:
        return default
    if not COLOR_PATTERN.match(value):
        raise ApplicationError(
            _("Enter a colour as # followed by six hexadecimal digits, for example #1f4e8c."),
            code="bad_color",
            field=field,
        )
    return value


def logo_decode(data: bytes) -> tuple[LogoFormat, Image.Image]:
    """The format of the logo file DATA and its decoded picture, or an ApplicationError saying
    why it cannot be a logo."""
    if len(data) > MAX_LOGO_BYTES:
        raise _rejected(
            _("The logo is larger than %(size)d KiB.") % {"size": MAX_LOGO_BYTES // 1024},
            "logo_too_large",
        )
    found = next((f for f in LOGO_FORMATS if data.startswith(f.signature)), None)
    not_an_image = _rejected(_("The logo must be a PNG or JPEG image."), "logo_not_image")
    if found is None:
        raise not_an_image
    too_many_pixels = _rejected(
        _("The logo has too many pixels: at most %(millions)d million (2000 × 2000, say).")
        % {"millions": MAX_LOGO_PIXELS // 1_000_000},
        "logo_too_many_pixels",
    )
    try:
        image = Image.open(io.BytesIO(data), formats=[found.pillow_name])
        width, height = image.size
        if width * height > MAX_LOGO_PIXELS:
            raise too_many_pixels
        image.load()
    except Image.DecompressionBombError:
        # Pillow's own, far higher limit, met while reading the header.
        raise too_many_pixels from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error):
        # What Pillow raises for a file that is truncated or not what its header says.
        raise not_an_image from None
    return found, image


def logo_for_print(image: Image.Image, *, max_size: tuple[int, int]) -> Image.Image:
    """IMAGE as opaque RGB on white (the header draws it on a white tile), scaled down to fit
    MAX_SIZE pixels: enough for print, and light to embed in every transcript."""
    image = image.copy()
    image.thumbnail(max_size)
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        opaque = Image.new("RGB", rgba.size, "white")
        opaque.paste(rgba, mask=rgba.getchannel("A"))
        return opaque
    return image.convert("RGB")


def readable_text_color(background: str) -> str:
    """White or near-black, whichever reads better on BACKGROUND (#rrggbb), so that a light
    primary colour does not swallow the issuer's name (WCAG relative luminance)."""

    def channel(hex_pair: str) -> float:
        value = int(hex_pair, 16) / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(background[i : i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    # Contrast with white is (1.05) / (L + 0.05), with black (L + 0.05) / 0.05: equal at 0.179.
    return "#ffffff" if luminance < 0.179 else "#1a1a1a"
