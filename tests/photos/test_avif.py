"""photos.avif: AVIF files from raw pixels are the files Pillow's own `Image.save` writes.

The encoder object it drives is not Pillow's public API: these tests are
what fails if a Pillow upgrade changes it.
"""

import io

import pytest
from PIL import Image

from photos import avif, renditions
from tests import image_fixtures as images
from tests.photos.test_avif_renditions import textured, textured_jpeg


def saved(image, **options):
    buffer = io.BytesIO()
    image.save(buffer, "AVIF", **options)
    return buffer.getvalue()


def with_alpha(image):
    image = image.convert("RGBA")
    image.putalpha(Image.radial_gradient("L").resize(image.size).point(lambda v: 255 - v))
    return image


@pytest.mark.parametrize("picture", [textured((640, 480)), with_alpha(textured((480, 640)))], ids=["rgb", "rgba"])
def test_files_are_byte_for_byte_those_of_image_save(picture):
    made = avif.encode(picture.tobytes(), picture.size, picture.mode, **renditions.AVIF_OPTIONS)

    assert made == saved(picture, **renditions.AVIF_OPTIONS)
    decoded = Image.open(io.BytesIO(made))
    decoded.load()
    assert (decoded.format, decoded.size, decoded.mode) == ("AVIF", picture.size, picture.mode)


def test_other_settings_reach_the_encoder():
    picture = textured((320, 240))
    options = {**renditions.AVIF_OPTIONS, "quality": 30, "subsampling": "4:4:4"}

    made = avif.encode(picture.tobytes(), picture.size, picture.mode, **options)

    assert made == saved(picture, **options)
    assert made != avif.encode(picture.tobytes(), picture.size, picture.mode, **renditions.AVIF_OPTIONS)


@pytest.mark.parametrize("mode", ["L", "CMYK", "RGBa"])
def test_only_rgb_and_rgba_pixels_are_taken(mode):
    picture = textured((64, 48)).convert(mode)

    with pytest.raises(ValueError, match=mode):
        avif.encode(picture.tobytes(), picture.size, mode, **renditions.AVIF_OPTIONS)


@pytest.mark.parametrize(
    "data",
    [
        textured_jpeg((2400, 1600)),
        images.photo_jpeg((1500, 2000), orientation=6),
        images.transparent_png((2000, 1000)),
    ],
    ids=["photo", "rotated-photo", "transparent"],
)
def test_render_makes_the_files_its_resized_images_make(data):
    """The widest image is encoded to AVIF from its bytes and made again for the other formats: nothing changes."""
    _, _, images_made = renditions.resized(data)
    expected = [rendition for image in images_made for rendition in renditions.encode(image)]

    made = renditions.render(data).renditions

    assert [(r.width, r.height, r.format) for r in made] == [(r.width, r.height, r.format) for r in expected]
    assert [r.data for r in made] == [r.data for r in expected]
    assert made[2].data == saved(images_made[0], **renditions.AVIF_OPTIONS)
