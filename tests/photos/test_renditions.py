"""photos.renditions: real images in, real JPEG and WebP renditions out."""

import io

import pytest
from PIL import Image

from photos import renditions
from tests import image_fixtures as images


def opened(rendition):
    image = Image.open(io.BytesIO(rendition.data))
    image.load()
    return image


def by_format(rendered, fmt):
    return [r for r in rendered.renditions if r.format == fmt]


def close_to(pixel, colour, tolerance=40):
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], colour, strict=True))


def test_landscape_photo_gets_every_width_in_every_format():
    rendered = renditions.render(images.photo_jpeg((2400, 1600)))
    assert (rendered.width, rendered.height, rendered.content_type) == (2400, 1600, "image/jpeg")
    for fmt, pil_format in (("jpeg", "JPEG"), ("webp", "WEBP"), ("avif", "AVIF")):
        made = by_format(rendered, fmt)
        assert [(r.width, r.height) for r in made] == [(1920, 1280), (1280, 853), (960, 640), (640, 427), (320, 213)]
        for rendition in made:
            image = opened(rendition)
            assert image.format == pil_format
            assert image.size == (rendition.width, rendition.height)
            assert rendition.content_type == f"image/{fmt}"
            assert close_to(image.getpixel((2, 2)), images.RED)


def test_renditions_carry_no_metadata():
    original = images.photo_jpeg((1600, 1200))
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # the original has GPS
    for rendition in renditions.render(original).renditions:
        image = opened(rendition)
        assert not image.getexif(), rendition
        assert "exif" not in image.info and "xmp" not in image.info and "icc_profile" not in image.info
        assert b"Exif" not in rendition.data and b"Camera Maker" not in rendition.data
        assert b"comment" not in image.info


def test_srgb_profile_is_dropped_and_pixels_kept():
    rendered = renditions.render(images.srgb_tagged_jpeg())
    for rendition in rendered.renditions:
        image = opened(rendition)
        assert "icc_profile" not in image.info
        assert close_to(image.getpixel((2, 2)), images.RED)


def test_other_colour_spaces_are_converted_to_srgb():
    # Pixels stored as "red" in a space whose red primary is sRGB's blue.
    for rendition in renditions.render(images.swapped_profile_jpeg()).renditions:
        image = opened(rendition)
        assert "icc_profile" not in image.info
        assert close_to(image.getpixel((5, 5)), (0, 0, 255), tolerance=12), rendition


def test_unreadable_profile_keeps_the_pixels():
    data = images.encode(images.scene((640, 480)), "JPEG", icc_profile=b"not an ICC profile at all" * 8)
    for rendition in renditions.render(data).renditions:
        assert close_to(opened(rendition).getpixel((2, 2)), images.RED)


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_is_applied(orientation):
    rendered = renditions.render(images.photo_jpeg((1500, 2000), orientation=orientation))
    assert (rendered.width, rendered.height) == (1500, 2000)
    for rendition in rendered.renditions:
        image = opened(rendition)
        assert image.width < image.height  # portrait, as the camera meant
        assert close_to(image.getpixel((2, 2)), images.RED), (orientation, rendition.width)
        assert close_to(image.getpixel((image.width - 3, image.height - 3)), images.GREEN)


def test_small_images_are_never_upscaled():
    rendered = renditions.render(images.photo_jpeg((200, 150)))
    assert sorted({(r.width, r.height) for r in rendered.renditions}) == [(200, 150)]
    assert [r.format for r in rendered.renditions] == ["jpeg", "webp", "avif"]


def test_an_image_between_widths_gets_its_own_width_too():
    rendered = renditions.render(images.photo_jpeg((1000, 500)))
    assert [r.width for r in by_format(rendered, "webp")] == [1000, 960, 640, 320]


def test_transparent_png_keeps_alpha_in_webp_and_avif_and_is_flattened_on_white_in_jpeg():
    rendered = renditions.render(images.transparent_png((800, 600)))
    assert rendered.content_type == "image/png"
    for fmt in ("webp", "avif"):
        image = opened(by_format(rendered, fmt)[0])
        assert image.mode == "RGBA", fmt
        assert image.getpixel((400, 590))[3] == 0, fmt
        assert image.getpixel((2, 2))[3] == 255, fmt
    jpeg = opened(by_format(rendered, "jpeg")[0])
    assert jpeg.mode == "RGB"
    assert close_to(jpeg.getpixel((400, 590)), (255, 255, 255), tolerance=6)
    assert close_to(jpeg.getpixel((2, 2)), images.RED)


def test_translucent_colours_keep_their_value_at_every_width():
    # 2600 px wide: every width is made from a wider one (1280 resized from
    # 1920, 960 and 640 halved from 1920 and 1280), through premultiplied
    # images that must be converted back before they are encoded.
    colour, alpha = (200, 40, 10), 64
    data = images.encode(Image.new("RGBA", (2600, 1300), (*colour, alpha)), "PNG")
    _, _, made = renditions.resized(data)
    assert [image.size for image in made] == [(1920, 960), (1280, 640), (960, 480), (640, 320), (320, 160)]
    for image in made:
        pixel = image.getpixel((image.width // 2, image.height // 2))
        assert image.mode == "RGBA", image.size
        assert close_to(pixel, colour, tolerance=3) and pixel[3] == alpha, (image.size, pixel)
    for rendition in by_format(renditions.render(data, formats=("webp",)), "webp"):
        pixel = opened(rendition).getpixel((rendition.width // 2, rendition.height // 2))
        assert close_to(pixel, colour, tolerance=8) and abs(pixel[3] - alpha) <= 1, (rendition.width, pixel)


def test_opaque_png_loses_its_useless_alpha():
    data = images.encode(images.scene((700, 400)).convert("RGBA"), "PNG")
    rendered = renditions.render(data)
    assert opened(by_format(rendered, "webp")[0]).mode == "RGB"
    assert opened(by_format(rendered, "avif")[0]).mode == "RGB"


def test_animated_gif_uses_its_first_frame():
    rendered = renditions.render(images.animated_gif((640, 480)))
    assert rendered.content_type == "image/gif"
    for rendition in rendered.renditions:
        assert close_to(opened(rendition).getpixel((10, 10)), images.RED)


def test_cmyk_jpeg_becomes_rgb():
    rendered = renditions.render(images.cmyk_jpeg())
    for rendition in rendered.renditions:
        image = opened(rendition)
        assert image.mode == "RGB"
        assert close_to(image.getpixel((10, 10)), (0, 255, 255), tolerance=50)


def test_16_bit_greyscale_is_scaled_not_clipped():
    rendered = renditions.render(images.grey16_png(value=32768))
    for rendition in rendered.renditions:
        red, green, blue = opened(rendition).convert("RGB").getpixel((5, 5))
        assert 118 <= red <= 138 and red == green == blue


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="zero-bytes"),
        pytest.param(b"%PDF-1.7 not an image at all", id="not-an-image"),
        pytest.param(b"<svg xmlns='http://www.w3.org/2000/svg'/>", id="svg"),
        pytest.param(images.truncated_jpeg(), id="truncated"),
        pytest.param(images.png_header(30000, 30000), id="decompression-bomb"),
        pytest.param(images.png_header(9000, 8000), id="too-many-pixels"),
        pytest.param(images.png_header(0, 100), id="zero-width"),
        pytest.param(images.encode(Image.new("RGB", (3200, 10)), "PNG"), id="absurd-shape"),
    ],
)
def test_bad_input_is_refused_with_invalid_image(data):
    with pytest.raises(renditions.InvalidImage):
        renditions.render(data)


def test_target_sizes_widest_first_and_never_upscaled():
    assert renditions.target_sizes(4000, 3000) == [(1920, 1440), (1280, 960), (960, 720), (640, 480), (320, 240)]
    assert renditions.target_sizes(640, 480) == [(640, 480), (320, 240)]
    assert renditions.target_sizes(100, 1000) == [(100, 1000)]


def test_a_png_turned_by_its_exif_is_measured_upright():
    upright = images.scene((600, 900))
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # orientation 6 turns it back
    rendered = renditions.render(images.encode(stored, "PNG", exif=images.camera_exif(orientation=6)))
    assert (rendered.width, rendered.height) == (600, 900)
    assert {(r.width, r.height) for r in rendered.renditions} == {(600, 900), (320, 480)}


@pytest.mark.parametrize(
    ("size", "fits"),
    [
        ((800, 16383), True),
        ((800, 16384), False),  # WebP's 14 bits
        ((1920, 16383), True),
        ((16383, 800), True),
        ((16384, 800), False),
    ],
)
def test_each_formats_longest_side_is_checked(size, fits):
    if fits:
        renditions.check_encodable(size, size)
        return
    with pytest.raises(renditions.InvalidImage, match="WEBP allows at most 16383 px a side"):
        renditions.check_encodable(size, size)
