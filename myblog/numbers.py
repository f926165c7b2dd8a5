"""Whole numbers from outside: query parameters, form fields, headers.

`int()` is too generous for input: it accepts any script's decimal digits
("١٢" is 12), surrounding whitespace, a sign and underscores ("+1_0"),
while `str.isdigit()` accepts digits `int()` refuses ("²", "①"), which is
how a check followed by a conversion ends in a 500. Every number that
arrives in a request goes through `parse_whole_number`: ASCII digits only,
within bounds, or `InvalidNumber`, which the caller turns into its 400.
"""

import re

DIGITS_RE = re.compile(r"[0-9]+")  # ASCII only (unlike \d); used with fullmatch
# More digits than any bound needs (whether a number fits DynamoDB's 38
# digits is the caller's check): a longer string is refused unconverted.
MAX_DIGITS = 100


class InvalidNumber(ValueError):
    """Text that is not a whole number in ASCII digits, or one out of bounds."""


def parse_whole_number(text, *, minimum=0, maximum=None):
    """The whole number `text` spells in ASCII digits, if `minimum <= n <= maximum`; else `InvalidNumber`."""
    if not isinstance(text, str) or not 0 < len(text) <= MAX_DIGITS or not DIGITS_RE.fullmatch(text):
        raise InvalidNumber(f"{text!r:.50} is not a whole number")
    number = int(text)
    if number < minimum or (maximum is not None and number > maximum):
        raise InvalidNumber(f"{number} is not between {minimum} and {maximum}")
    return number
