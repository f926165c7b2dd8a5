"""Real images made by the tests: photos with camera EXIF (GPS included),
rotated JPEGs, transparent PNGs, animated GIFs, CMYK, 16-bit, and broken or
hostile files."""

import io
import struct
import zlib

from PIL import Image, ImageDraw

RED = (220, 20, 30)
GREEN = (20, 180, 40)
BLUE = (30, 40, 210)

GPS_LATITUDE = (51.0, 30.0, 12.5)


def camera_exif(orientation=1):
    exif = Image.Exif()
    exif[0x010F] = "Camera Maker"  # Make
    exif[0x0110] = "Model 1"  # Model
    exif[0x0112] = orientation
    exif[0x0132] = "2026:11:20 10:00:00"  # DateTime
    exif[0x8825] = {1: "N", 2: GPS_LATITUDE, 3: "W", 4: (0.0, 7.0, 39.9)}  # GPS IFD
    return exif


def scene(size, marker=RED):
    """A picture with a gradient, some shapes and a marker block at its top-left corner."""
    width, height = size
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(image)
    draw.ellipse((width // 4, height // 4, width * 3 // 4, height * 3 // 4), fill=BLUE)
    draw.rectangle((0, 0, width // 5, height // 5), fill=marker)
    draw.rectangle((width * 4 // 5, height * 4 // 5, width, height), fill=GREEN)
    return image


def encode(image, fmt, **params):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def photo_jpeg(size=(2400, 1600), orientation=1, **params):
    """A JPEG as a camera writes it, EXIF and GPS included.

    With an orientation other than 1, `size` is the upright size and the
    pixels are stored turned so that applying the orientation shows the
    marker at the top-left.
    """
    upright = scene(size)
    inverse = {
        3: Image.Transpose.ROTATE_180,
        6: Image.Transpose.ROTATE_90,
        8: Image.Transpose.ROTATE_270,
    }
    stored = upright.transpose(inverse[orientation]) if orientation in inverse else upright
    return encode(stored, "JPEG", quality=90, exif=camera_exif(orientation), **params)


def transparent_png(size=(800, 600)):
    """Opaque marker at the top-left, fully transparent bottom half."""
    image = scene(size).convert("RGBA")
    alpha = Image.new("L", size, 255)
    ImageDraw.Draw(alpha).rectangle((0, size[1] // 2, size[0], size[1]), fill=0)
    image.putalpha(alpha)
    return encode(image, "PNG")


def animated_gif(size=(640, 480)):
    frames = [Image.new("RGB", size, colour) for colour in (RED, GREEN, BLUE)]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def cmyk_jpeg(size=(800, 600)):
    """Pure cyan: (255, 0, 0, 0) in CMYK."""
    return encode(Image.new("CMYK", size, (255, 0, 0, 0)), "JPEG", quality=95)


def grey16_png(size=(700, 500), value=32768):
    """16-bit greyscale at mid-grey (a naive 8-bit conversion would clip it to white)."""
    return encode(Image.new("I;16", size, value), "PNG")


def srgb_tagged_jpeg(size=(1000, 700)):
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return encode(scene(size), "JPEG", quality=90, icc_profile=profile, exif=camera_exif())


def truncated_jpeg():
    data = photo_jpeg((1200, 800))
    return data[: len(data) // 3]


def png_header(width, height):
    """A PNG whose header claims `width` x `height` (a decompression bomb's shape)."""

    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def _s15(value):
    return struct.pack(">i", round(value * 65536))


def rgb_profile(description, red, green, blue):
    """A minimal ICC v2 RGB matrix profile with the given (D50 XYZ) primaries and gamma 2.2."""

    def xyz(values):
        return b"XYZ \0\0\0\0" + b"".join(_s15(v) for v in values)

    def pad(data):
        return data + b"\0" * (-len(data) % 4)

    text = description.encode("ascii") + b"\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + b"\0" * 8 + b"\0\0\0" + b"\0" * 67
    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, 0x0233)
    tags = [
        (b"desc", pad(desc)),
        (b"wtpt", xyz((0.9642, 1.0, 0.8249))),
        (b"rXYZ", xyz(red)),
        (b"gXYZ", xyz(green)),
        (b"bXYZ", xyz(blue)),
        (b"rTRC", pad(curve)),
        (b"gTRC", pad(curve)),
        (b"bTRC", pad(curve)),
        (b"cprt", pad(b"text\0\0\0\0No copyright\0")),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, payload in tags:
        table += signature + struct.pack(">II", offset + len(data), len(payload))
        data += payload
    body = struct.pack(">I", len(tags)) + table + data
    header = (
        struct.pack(">I", 128 + len(body))
        + b"\0\0\0\0"
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + b"\0" * 12
        + b"acsp"
        + b"\0" * 24
        + struct.pack(">I", 0)
        + _s15(0.9642)
        + _s15(1.0)
        + _s15(0.8249)
        + b"\0" * 48
    )
    assert len(header) == 128
    return header + body


# sRGB's primaries adapted to D50, with red and blue exchanged: an image
# tagged with this profile whose pixels are pure red is really blue.
SWAPPED_PROFILE = rgb_profile(
    "Swapped primaries", red=(0.1431, 0.0606, 0.7141), green=(0.3851, 0.7169, 0.0971), blue=(0.4361, 0.2225, 0.0139)
)


def swapped_profile_jpeg(size=(900, 600)):
    return encode(Image.new("RGB", size, (255, 0, 0)), "JPEG", quality=95, icc_profile=SWAPPED_PROFILE)


# -- the kinds of bad (or merely unusual) file an upload can be -----------------------------------


def truncated_png():
    data = encode(scene((900, 600)), "PNG")
    return data[: len(data) // 2]


def with_header_size(data, fmt, width, height):
    """`data` (a small JPEG or GIF) with a header claiming `width` x `height`: a bomb's shape."""
    patched = bytearray(data)
    if fmt == "JPEG":
        start = patched.find(b"\xff\xc0")  # baseline SOF: length, precision, height, width
        patched[start + 5 : start + 9] = struct.pack(">HH", height, width)
    else:  # GIF: the logical screen size, little-endian, after the signature
        patched[6:10] = struct.pack("<HH", width, height)
    return bytes(patched)


def jpeg_bomb(width=60000, height=60000):
    return with_header_size(encode(Image.new("RGB", (16, 16), RED), "JPEG"), "JPEG", width, height)


def gif_bomb(width=9000, height=9000):
    return with_header_size(encode(Image.new("P", (16, 16)), "GIF"), "GIF", width, height)


def tall(fmt, size):
    """A plain image of `size` in `fmt` (greyscale, so that even 18 000 px tall it is cheap to make)."""
    return encode(Image.new("L", size, 128), fmt)


def animated_webp(size=(640, 480)):
    frames = [Image.new("RGB", size, colour) for colour in (RED, GREEN, BLUE)]
    return encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100, loop=0)


def palette_transparent_png(size=(600, 400)):
    """A palette image whose index 0 is transparent (the shape of most web graphics)."""
    image = scene(size).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    return encode(image, "PNG", transparency=0)


def palette_transparent_gif(size=(600, 400)):
    image = scene(size).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    return encode(image, "GIF", transparency=0)


def corrupt_exif_jpeg(size=(900, 600)):
    """A JPEG whose EXIF block is a TIFF header followed by garbage."""
    return encode(scene(size), "JPEG", quality=90, exif=b"Exif\x00\x00II*\x00" + b"\xff\x7f" * 40)


def bmp(size=(300, 200)):
    return encode(scene(size), "BMP")


def tiff(size=(300, 200)):
    return encode(scene(size), "TIFF")


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>'
HTML = b"<!doctype html><title>not a photo</title>"
ZIP = b"PK\x05\x06" + b"\x00" * 18  # an empty zip archive
