"""Image renditions: the resized copies of a photo that pages put in `srcset`.

Pure functions from the original's bytes to encoded renditions; nothing here
knows about S3 or DynamoDB (see `photos.processing`). The work is shaped for a
small Lambda: the original is decoded once, and for JPEG at a reduced size
(libjpeg's DCT scaling, Pillow's "draft" mode) just large enough for the
widest rendition, so a 24 MP photo never exists in memory at full size. The
EXIF rotation is applied to that small result, and each narrower rendition
is made from the previous one rather than from the original. The widest
AVIF, the render's largest encoder, is made first and from the widest
image's bytes alone (see `photos.avif`).

Every rendition is in sRGB with no metadata at all: no EXIF (readers must
not learn where or when a photo was taken, or with what), no XMP, no
comments, no colour profile. Images in another colour space (Display P3
from phones, Adobe RGB, CMYK with a profile) are converted to sRGB first,
which is what browsers assume for untagged images.

Quality settings, chosen for photographs seen on screens:

- JPEG quality 82, 4:2:0 chroma, optimised Huffman tables: no visible loss
  on photos at screen sizes, far lighter than 90+; baseline rather than
  progressive, whose multi-scan encoding costs more CPU for a few percent
  at these sizes.
- WebP quality 80 (about JPEG 82 in appearance) with `method` 2. libwebp's
  effort setting dominates the cost of making renditions: on this project's
  benchmark photos (bench/thumbnails.py) method 2 encodes in half the time
  of 3 or 4 (the default) for files about 4 % larger (13 % for images with
  transparency); method 0 saves another third of the time but files grow
  by a quarter. Renditions are made once per upload and read many times, so
  revisit this if upload volume ever stops mattering. Alpha is kept
  (quality 100) for WebP; JPEG renditions of transparent images are
  flattened onto white.
- AVIF quality 60, speed 9, 4:2:0, one thread (Lambda at 1024 MB has
  about half a vCPU), libaom's temporal model off (see AVIF_OPTIONS).
  Measured by bench/thumbnails.py (block SSIM on luma against the resized
  image, photo-like noise textures; chroma SSIM checked alongside): on
  photos its SSIM is above our WebP's at every width, and at equal SSIM it
  needs 0.66-0.72x WebP's bytes width by width. Speed 9 is libaom's
  fastest for still pictures (10 makes the same files): speed 8 needs more
  bytes (0.71x over the corpus against 0.67x) for twice the CPU, and
  speeds 6-7 save a tenth more bytes for seven times the CPU. Alpha is
  kept, as for WebP.
"""

import io
import warnings
from dataclasses import dataclass

from PIL import (  # noqa: F401  (the plugins register the formats we accept and make)
    AvifImagePlugin,
    GifImagePlugin,
    Image,
    ImageCms,
    JpegImagePlugin,
    PngImagePlugin,
    UnidentifiedImageError,
    WebPImagePlugin,
)

from photos import avif

# Widths the site's `srcset` offers, widest first. Never upscaled: an image
# narrower than the widest gets the widths below its own plus its own.
WIDTHS = (1920, 1280, 960, 640, 320)

JPEG_OPTIONS = {"quality": 82, "optimize": True, "progressive": False, "subsampling": "4:2:0"}
WEBP_OPTIONS = {"quality": 80, "method": 2, "alpha_quality": 100}
# libaom's temporal model (TPL) does nothing for a single still picture (the
# files are byte for byte the same without it) but allocates frame-sized
# buffers: off, for the encoder's peak memory.
AVIF_OPTIONS = {
    "quality": 60,
    "speed": 9,
    "subsampling": "4:2:0",
    "max_threads": 1,
    "advanced": (("enable-tpl-model", "0"),),
}
# Every format a photo's renditions are made in (`Photo.formats` says which
# ones a stored photo has: photos made before AVIF have JPEG and WebP only).
FORMATS = ("jpeg", "webp", "avif")
CONTENT_TYPES = {"jpeg": "image/jpeg", "webp": "image/webp", "avif": "image/avif"}
# The longest side each format can encode (libwebp: 14 bits; JPEG: 16 bits;
# AV1 allows 65536, and libavif decodes up to 32768 by default).
# Checked on the renditions' sizes before anything is decoded: an encoder
# refusing a size after the work is done would waste it, and its error
# would not tell the editor what to change.
MAX_ENCODED_SIDE = {"jpeg": 65535, "webp": 16383, "avif": 32768}

# Formats accepted as originals (Pillow's names). Pillow opens some cameras'
# JPEGs (multi-picture) as MPO, through its JPEG plugin.
SOURCE_FORMATS = ("JPEG", "PNG", "GIF", "WEBP")
SOURCE_CONTENT_TYPES = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}

# Limits against decompression bombs and absurd uploads. 60 MP covers
# today's 48 MP phone cameras; a side over 20 000 px or a ratio over 30:1 is
# not a photo a blog shows.
MAX_PIXELS = 60_000_000
MAX_SIDE = 20_000
MAX_ASPECT_RATIO = 30

# Resizing: bicubic, as Pillow's own `thumbnail()`; after DCT scaling the
# remaining ratios are small (under 2:1), where Lanczos costs half as much
# again for no visible gain. `reducing_gap` lets Pillow first shrink by an
# integer factor with a box filter when the ratio is large (PNG, GIF, WebP
# originals, which have no DCT scaling).
RESAMPLE = Image.Resampling.BICUBIC
REDUCING_GAP = 2.0

WHITE = (255, 255, 255)

# EXIF orientation -> the transpose that makes the image upright.
ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
SWAPS_AXES = {5, 6, 7, 8}
EXIF_ORIENTATION = 0x0112

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class InvalidImage(ValueError):
    """The bytes are not an image we can (or should) render.

    Its message is what the editor reads on the photo: ours, never
    Pillow's (which names Python objects, `<_io.BytesIO object at ...>`, and
    decoder internals); Pillow's error is its `__cause__`, for the log.
    """


DAMAGED = "the file is damaged or incomplete; export it again and upload the new file"
_SUPPORTED = ", ".join(SOURCE_FORMATS[:-1]) + " or " + SOURCE_FORMATS[-1].replace("WEBP", "WebP")


@dataclass(frozen=True)
class Rendition:
    width: int
    height: int
    format: str  # one of FORMATS
    data: bytes

    @property
    def content_type(self):
        return CONTENT_TYPES[self.format]


@dataclass(frozen=True)
class RenderedPhoto:
    width: int  # upright size of the original
    height: int
    content_type: str  # of the original
    renditions: list


def target_sizes(width, height, widths=WIDTHS):
    """(width, height) of each rendition for an upright `width` x `height`, widest first."""
    chosen = sorted({w for w in widths if w <= width}, reverse=True)
    if width < max(widths) and width not in chosen:
        chosen.insert(0, width)
    return [(w, max(1, round(height * w / width))) for w in chosen]


def check_encodable(size, original_size):
    """InvalidImage unless every format can encode a rendition of `size` (the largest one)."""
    longest = max(size)
    for fmt in FORMATS:
        if longest > MAX_ENCODED_SIDE[fmt]:
            width, height = original_size
            raise InvalidImage(
                f"the photo is {width}x{height} px: its largest rendition would be {size[0]}x{size[1]} px, "
                f"and {fmt.upper()} allows at most {MAX_ENCODED_SIDE[fmt]} px a side. "
                "Crop it to a less extreme shape and upload it again."
            )


def render(data, widths=WIDTHS, formats=FORMATS):
    """Decode `data` once and encode every rendition (in each of `formats`: JPEG, WebP and AVIF).

    Raises InvalidImage for anything that is not a sane image: empty,
    unknown format, truncated, too many pixels, absurd dimensions, or a
    shape whose renditions a format cannot encode (`check_encodable`,
    before any decoding).
    """
    upright, content_type, widest, sizes = _widest(data, widths)
    ready = ()
    if "avif" in formats:
        # The widest AVIF first, from the widest image's bytes alone: the
        # AV1 encoder is the largest allocation of the render, and while it
        # runs no image is alive beside it (see photos.avif). The image is
        # made again from the bytes for the other formats and sizes.
        pixels, size, mode = widest.tobytes(), widest.size, widest.mode
        widest = None
        ready = (Rendition(size[0], size[1], "avif", encode_avif(pixels, size, mode)),)
        widest = Image.frombytes(mode, size, pixels)
        pixels = None
    images = _cascade(widest, sizes)
    widest = None  # (the cascade holds it only as long as a narrower image is made from it)
    renditions = []
    for image in images:
        renditions.extend(encode(image, formats, ready=ready))
        image, ready = None, ()
    return RenderedPhoto(width=upright[0], height=upright[1], content_type=content_type, renditions=renditions)


def resized(data, widths=WIDTHS):
    """(upright size, the original's content type, the images to encode widest first) of `data`.

    The images are upright, in sRGB, RGB or RGBA, one per rendition size:
    what `encode` turns into files (and what bench/thumbnails.py compares
    the encoded files with).
    """
    upright, content_type, widest, sizes = _widest(data, widths)
    return upright, content_type, list(_cascade(widest, sizes))


def _widest(data, widths):
    """(upright size, the original's content type, the widest image to encode, every rendition size).

    The original is decoded and dropped here; the narrower images are made
    from the widest (see `_cascade`). A file that cannot be decoded raises
    InvalidImage.
    """
    if not data:
        raise InvalidImage("the file is empty")
    image = _open(data)
    made = []
    try:
        # The plan (sizes, and whether every format can encode them) comes
        # from the header alone, before anything is decoded.
        orientation = _orientation(image, decode=False)
        upright, sizes, largest = _plan(image.size, orientation, widths)
        if image.format in ("JPEG", "MPO"):
            # DCT scaling: decode at 1/2, 1/4 or 1/8 size, never below `largest`.
            image.draft("RGB", largest)
        try:
            image.load()
        except (OSError, SyntaxError, ValueError, EOFError, IndexError) as error:
            raise InvalidImage(f"cannot decode the image: {DAMAGED}") from error
        if image.format == "PNG" and _orientation(image) != orientation:
            # A PNG's EXIF may follow its pixels, and is only read with them.
            orientation = _orientation(image)
            upright, sizes, largest = _plan(image.size, orientation, widths)
        icc_profile = image.info.get("icc_profile")
        source_format = image.format
        working = _normalise_mode(image)
        if working.mode == "RGBA" and working.size != largest:
            # Resize with premultiplied alpha (as Pillow does internally),
            # dropping the full-size original as soon as it is converted.
            premultiplied = working.convert("RGBa")
            image.close()
            working = None
            working = _resize(premultiplied, largest)
            premultiplied = None
            working = working.convert("RGBA")
        else:
            working = _resize(working, largest)
        if working is not image:
            image.close()  # free the decoded original before encoding
        working = _to_srgb(working, icc_profile)
        if orientation in ORIENTATION_TRANSPOSE:
            working = working.transpose(ORIENTATION_TRANSPOSE[orientation])
        if working.mode == "RGBA" and working.getchannel("A").getextrema()[0] == 255:
            working = working.convert("RGB")  # fully opaque: no alpha to keep
        made.append(working)
        return upright, SOURCE_CONTENT_TYPES[source_format], working, sizes
    finally:
        if not any(resized is image for resized in made):
            image.close()  # (an original already the right size is itself the widest image to encode)


def _cascade(widest, sizes):
    """Yield the image of each of `sizes` (widest first), each made from a wider one.

    Only the images a narrower size is still to be made from stay alive:
    while the widest is encoded (the largest encoder buffers, AVIF's above
    all) it is the only image in memory.

    Transparent images are resized premultiplied (as Pillow's own `resize`
    and `reduce` do internally): each image a narrower one is made from is
    kept premultiplied ("RGBa"), so it is converted once to be encoded
    rather than back and forth for every narrower size.
    """
    made = []
    previous = widest
    widest = None
    for index, size in enumerate(sizes):
        image = _derive(made, previous, size)
        narrower = sizes[index + 1 :]
        straight = image.convert("RGBA") if image.mode == "RGBa" else image
        previous = None
        made = [kept for kept in made if _halves_into(kept, narrower)]
        yield straight
        straight = None
        if narrower and image.mode == "RGBA":
            image = image.convert("RGBa")  # (the widest, once it is encoded)
        previous = image if narrower else None
        if _halves_into(image, narrower):  # (`made` is already held to the narrower sizes above)
            made.append(image)
        image = None


def _halves_into(image, sizes):
    """Whether a size of `sizes` is exactly half of `image` (made from it by `reduce(2)`)."""
    return any(image.size == (width * 2, height * 2) for width, height in sizes)


def _open(data):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=SOURCE_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        # Pillow's own (higher) limit, met by a header claiming billions of pixels.
        raise InvalidImage(f"the image is too large (at most {MAX_PIXELS} pixels, {MAX_SIDE} px a side)") from error
    except UnidentifiedImageError as error:
        raise InvalidImage(f"not a supported image: upload a {_SUPPORTED} file") from error
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise InvalidImage(f"cannot read the image header: {DAMAGED}") from error
    width, height = image.size
    if width < 1 or height < 1:
        image.close()
        raise InvalidImage(f"invalid dimensions {width}x{height}")
    if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
        image.close()
        raise InvalidImage(f"{width}x{height} is too large (at most {MAX_PIXELS} pixels, {MAX_SIDE} px a side)")
    if max(width, height) / min(width, height) > MAX_ASPECT_RATIO:
        image.close()
        raise InvalidImage(f"{width}x{height} is not a photo's shape")
    return image


def _plan(stored_size, orientation, widths):
    """(upright size, rendition sizes widest first, the size to decode to) of a stored image.

    InvalidImage if a format cannot encode the largest rendition.
    """
    stored_w, stored_h = stored_size
    upright = (stored_h, stored_w) if orientation in SWAPS_AXES else (stored_w, stored_h)
    sizes = target_sizes(*upright, widths=widths)
    check_encodable(sizes[0], upright)
    largest = sizes[0] if orientation not in SWAPS_AXES else (sizes[0][1], sizes[0][0])
    return upright, sizes, largest


def _orientation(image, decode=True):
    """The image's EXIF orientation (1 if none or unreadable).

    With `decode=False`, never decodes the pixels to find it: Pillow reads a
    PNG's EXIF from chunks after the image data by decoding the image, so
    such a PNG reads as 1 until it is loaded.
    """
    if not decode and image.format == "PNG" and "exif" not in image.info:
        return 1
    try:
        value = image.getexif().get(EXIF_ORIENTATION, 1)
    except Exception:  # a malformed EXIF block must not lose the photo
        return 1
    return value if value in ORIENTATION_TRANSPOSE else 1


def _normalise_mode(image):
    """RGB or RGBA (CMYK kept for its profile conversion), 8 bits per channel."""
    mode = image.mode
    if mode in ("RGB", "RGBA", "CMYK"):
        return image
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # 16-bit greyscale: scale to 8 bits (a plain convert would clip).
        return image.convert("I").point(lambda value: value * (1 / 257)).convert("L").convert("RGB")
    if mode == "F":
        return image.point(lambda value: value * 255).convert("L").convert("RGB")
    if mode in ("P", "PA"):
        has_alpha = mode == "PA" or "transparency" in image.info
        return image.convert("RGBA" if has_alpha else "RGB")
    if mode in ("LA", "La", "RGBa"):
        return image.convert("RGBA")
    return image.convert("RGB")


def _resize(image, size):
    if image.size == size:
        return image
    return image.resize(size, RESAMPLE, reducing_gap=REDUCING_GAP)


def _derive(made, previous, size):
    """The rendition of `size`, from the cheapest rendition already made.

    Half of an earlier rendition is a 2x2 box average (`reduce(2)`, about a
    tenth of the cost of a resize, and the right filter at exactly 2:1);
    otherwise the previous, next-larger rendition is resized.
    """
    if previous.size == size:
        return previous
    for image in made:
        if image.size == (size[0] * 2, size[1] * 2):
            return image.reduce(2)
    return _resize(previous, size)


def _to_srgb(image, icc_profile):
    """Convert from the embedded profile to sRGB; untagged images are sRGB already."""
    if image.mode == "CMYK":
        if icc_profile:
            try:
                source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
                return ImageCms.profileToProfile(image, source, _SRGB, outputMode="RGB")
            except (ImageCms.PyCMSError, OSError, ValueError):
                pass
        return image.convert("RGB")
    if not icc_profile:
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        description = ImageCms.getProfileDescription(source) or ""
        if "srgb" in description.lower().replace(" ", ""):
            return image
        return ImageCms.profileToProfile(image, source, _SRGB, outputMode=image.mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # an unreadable profile: keep the pixels as they are


def encode(image, formats=FORMATS, ready=()):
    """The renditions of one resized `image` (see `resized`), one per format of `formats`, in that order.

    `ready` holds renditions of this image already made (`render` makes
    the widest AVIF first), which are put in their place, not made again.
    """
    # Pillow carries the source's `info` (EXIF, XMP, comment, ICC) onto
    # derived images and writes some of it back: start from nothing.
    image.info = {}
    width, height = image.size
    made_before = {rendition.format: rendition for rendition in ready}
    made = []
    for fmt in formats:
        if fmt in made_before:
            made.append(made_before[fmt])
            continue
        if fmt == "avif":
            made.append(Rendition(width, height, fmt, encode_avif(image.tobytes(), image.size, image.mode)))
            continue
        buffer = io.BytesIO()
        if fmt == "jpeg":
            _flat(image).save(buffer, "JPEG", **JPEG_OPTIONS)
        elif fmt == "webp":
            image.save(buffer, "WEBP", **WEBP_OPTIONS)
        else:
            raise ValueError(f"unknown rendition format {fmt!r}")
        made.append(Rendition(width, height, fmt, buffer.getvalue()))
    return made


def encode_avif(pixels, size, mode):
    """The AVIF file, with our settings, of raw `pixels` (`Image.tobytes()` of an RGB or RGBA image)."""
    return avif.encode(pixels, size, mode, **AVIF_OPTIONS)


def _flat(image):
    """`image` without alpha: transparent pixels flattened onto white (for JPEG)."""
    if image.mode != "RGBA":
        return image
    flat = Image.new("RGB", image.size, WHITE)
    flat.paste(image, mask=image.getchannel("A"))
    return flat
