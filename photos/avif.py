"""AVIF files from an image's raw pixels, so the image itself can be let go first.

Pillow's `Image.save(..., "AVIF")` copies the pixels to bytes (`tobytes`)
and hands them to libavif while the image stays alive. The AV1 encoder is
the largest allocation of a whole render (libaom holds about 20 bytes a
pixel: 97 MB for the 1920x2560 rendition of a 12 MP portrait photo), and
beside it the image (4 bytes a pixel in Pillow) and its copy took that
render past 150 MB. From bytes, the caller keeps one copy of the pixels
(3 or 4 bytes a pixel) and drops the image before the encoder starts
(`photos.renditions.render` does so for the widest rendition).

Freed memory is handed back to the system before and after each encode
(glibc's `malloc_trim`), and glibc's threshold for giving large blocks
their own mapping is held at Pillow's image block size (16 MB). glibc
keeps what a program frees for its next allocations, and raises that
threshold to the largest block freed (libaom's 30 MB coefficient buffer),
after which every buffer below it is kept too: between the decoded
original, the resized images and libaom's buffers of every size, the heap
a render left was too fragmented for the next encoder to fit in, and an
instance's memory grew by some 30 MB over its first few photos
(bench/thumbnails.py measures the peak over repeated renders, as an
instance makes them). The trims are made around AVIF encodes only: the
pages returned are faulted in again when reused, which costs CPU (about
a twentieth of a render) for a peak that stays at the encoder's own size.

This drives Pillow's own AVIF encoder object (`PIL._avif.AvifEncoder`)
exactly as Pillow's AVIF plugin does for a single still image with no
metadata, which is not public API: tests/photos/test_avif.py checks that
the files are byte for byte those of `Image.save`, so a Pillow upgrade that
changes the encoder's arguments fails there rather than in the thumbnail
handler.
"""

import ctypes

from PIL import AvifImagePlugin, _avif

MODES = ("RGB", "RGBA")

# glibc's allocator controls (Lambda's runtimes and our Linux machines run
# on glibc); with another C library, freed memory stays with the process.
_LIBC = ctypes.CDLL(None)
_GLIBC = hasattr(_LIBC, "gnu_get_libc_version")
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
MMAP_THRESHOLD = 16 * 1024 * 1024  # Pillow's image block size (PIL.Image.core.get_block_size())


def release_free_memory():
    """Hand the heap's free pages back to the system, and hold the mapping threshold (see the docstring)."""
    if _GLIBC:
        _LIBC.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        _LIBC.malloc_trim(0)


def encode(pixels, size, mode, *, quality, speed, subsampling, max_threads, advanced=()):
    """The AVIF file of `size` pixels in `mode` ("RGB" or "RGBA"), laid out as `Image.tobytes()` gives them.

    The options are `Image.save`'s AVIF options of the same names.
    """
    if mode not in MODES:
        raise ValueError(f"AVIF is encoded from RGB or RGBA pixels, not {mode}")
    if not AvifImagePlugin.SUPPORTED:
        raise OSError("this Pillow has no AVIF encoder")
    release_free_memory()
    encoder = _avif.AvifEncoder(
        size,
        subsampling,
        quality,
        speed,
        max_threads,
        "auto",  # codec: the one libavif was built with (libaom in Pillow's wheels)
        "full",  # range
        0,  # tile rows (log2)
        0,  # tile columns (log2)
        False,  # alpha premultiplied
        True,  # autotiling (as Pillow does when no tiles are given)
        b"",  # ICC profile: renditions are sRGB and untagged
        b"",  # EXIF: none
        1,  # EXIF orientation: upright
        b"",  # XMP: none
        tuple(advanced),
    )
    try:
        encoder.add(pixels, 0, size, mode, True)  # (no duration; a single still image)
        data = encoder.finish()
    finally:
        encoder = None
        release_free_memory()
    if data is None:
        raise OSError("cannot write file as AVIF (encoder returned None)")
    return data
