"""The cover's focal point: where cards crop the cover around.

The editor clicks the cover in the post form (posts/static/posts/cover_focus.js),
which stores "x,y": fractions of the photo's width and height from its top
left corner, e.g. "0.30,0.60". Cards show the cover with `object-fit: cover`
and `object-position` at that point. The public pages' Content-Security-
Policy allows no inline styles, so the position is given as two classes
(`fx30 fy60`, 5 % steps) that templates/site.css defines.
"""

import re

STEP = 5  # per cent: the classes site.css defines (fx0, fx5 ... fx100; fy0 ... fy100)
_FOCUS = re.compile(r"\s*([01](?:\.\d{1,4})?)\s*,\s*([01](?:\.\d{1,4})?)\s*")
MAX_LENGTH = 21


class InvalidFocus(ValueError):
    pass


def parse_focus(text):
    """(x, y) floats in [0, 1] from "x,y"; None for an empty value; `InvalidFocus` for anything else."""
    if text is None or not str(text).strip():
        return None
    text = str(text)
    match = _FOCUS.fullmatch(text) if len(text) <= MAX_LENGTH else None
    if match is None:
        raise InvalidFocus("Give the focal point as two numbers from 0 to 1, e.g. “0.30,0.60” (click the cover).")
    x, y = float(match.group(1)), float(match.group(2))
    if not (0 <= x <= 1 and 0 <= y <= 1):
        raise InvalidFocus("The focal point must lie on the photo: both numbers from 0 to 1.")
    return x, y


def normalise_focus(text):
    """The stored form of a focal point ("0.3,0.6"), or None for none; `InvalidFocus` as `parse_focus`."""
    point = parse_focus(text)
    if point is None:
        return None
    return ",".join(f"{value:.4f}".rstrip("0").rstrip(".") or "0" for value in point)


def focus_classes(text):
    """The CSS classes that position a card's cover at the focal point ("" for none or an unreadable one)."""
    try:
        point = parse_focus(text)
    except InvalidFocus:
        return ""
    if point is None:
        return ""
    x, y = (int(round(value * 100 / STEP)) * STEP for value in point)
    return f"fx{x} fy{y}"


def focus_css():
    """The rules site.css carries for `focus_classes` (kept there verbatim; a test checks they agree)."""
    steps = range(0, 101, STEP)
    return "".join(f".fx{value}{{--fx:{value}%}}" for value in steps) + "".join(
        f".fy{value}{{--fy:{value}%}}" for value in steps
    )
