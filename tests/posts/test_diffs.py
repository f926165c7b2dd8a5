"""The word diff: what changed, escaped, on the texts editors really write."""

import time

from posts import diffs
from posts.diffs import DELETE, EQUAL, INSERT


def _sides(pieces):
    old = "".join(text for kind, text in pieces if kind != INSERT)
    new = "".join(text for kind, text in pieces if kind != DELETE)
    return old, new


def test_one_changed_word_is_all_that_is_marked():
    pieces = diffs.word_diff("The quick brown fox", "The quick red fox")
    assert pieces == [(EQUAL, "The quick "), (DELETE, "brown"), (INSERT, "red"), (EQUAL, " fox")]
    assert str(diffs.diff_html("The quick brown fox", "The quick red fox")) == (
        "The quick <del>brown</del><ins>red</ins> fox"
    )


def test_both_texts_can_be_rebuilt_from_the_pieces():
    old = "# Title\n\nFirst **bold** line.\nSecond line with [a link](https://example.com/a).\n"
    new = "# Title!\n\nFirst *bold* line.\nSecond line with [a link](https://example.com/b).\nThird.\n"
    assert _sides(diffs.word_diff(old, new)) == (old, new)


def test_markdown_punctuation_differs_by_the_character():
    pieces = diffs.word_diff("Some **bold** text", "Some *bold* text")
    assert [text for kind, text in pieces if kind == DELETE] == ["*", "*"]
    assert not [text for kind, text in pieces if kind == INSERT]
    assert (EQUAL, "bold") in pieces or any("bold" in text for kind, text in pieces if kind == EQUAL)


def test_html_and_script_are_escaped_on_both_sides():
    html = str(diffs.diff_html("<b>old</b> & more", '<script>alert("x")</script> & more'))
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;" in html and "&quot;x&quot;" in html and "&amp; more" in html
    assert "<del>" in html and "<ins>" in html


def test_unicode_words_accents_emoji_and_right_to_left_text():
    pieces = diffs.word_diff("Café déjà vu 🎉 שלום עולם", "Café déjà vu 🎈 שלום חבר")
    assert (DELETE, "🎉") in pieces and (INSERT, "🎈") in pieces
    assert (DELETE, "עולם") in pieces and (INSERT, "חבר") in pieces
    assert (EQUAL, "Café déjà vu ") in pieces
    # "déjà" is one word, not split at its accented letters.
    assert diffs.tokens("déjà-vu") == ["déjà", "-", "vu"]


def test_empty_texts():
    assert diffs.word_diff("", "") == []
    assert diffs.word_diff(None, None) == []
    assert diffs.word_diff("", "new text") == [(INSERT, "new text")]
    assert diffs.word_diff("old text", "") == [(DELETE, "old text")]
    assert str(diffs.diff_html("", "")) == ""
    assert str(diffs.diff_html(None, "<i>")) == "<ins>&lt;i&gt;</ins>"


def test_identical_texts_have_no_marks():
    assert str(diffs.diff_html("same <text>", "same <text>")) == "same &lt;text&gt;"


def test_long_texts_are_compared_line_by_line_and_stay_fast():
    lines = [f"Paragraph {n} says something about word{n % 97} and more.\n" for n in range(3000)]
    old = "".join(lines)
    changed = list(lines)
    changed[1500] = "Paragraph 1500 says something completely different.\n"
    new = "".join(changed)
    started = time.perf_counter()
    pieces = diffs.word_diff(old, new)
    assert time.perf_counter() - started < 5  # a generous bound: the naive token diff takes minutes
    assert _sides(pieces) == (old, new)
    assert [text for kind, text in pieces if kind == INSERT] == ["completely different"]


def test_a_block_too_large_for_words_is_replaced_whole():
    old = " ".join(f"a{n}" for n in range(diffs.MAX_BLOCK_TOKENS))
    new = " ".join(f"b{n}" for n in range(diffs.MAX_BLOCK_TOKENS))
    assert diffs.word_diff(old, new) == [(DELETE, old), (INSERT, new)]


def test_folding_keeps_only_the_lines_around_a_change():
    old = "".join(f"line {n}\n" for n in range(40))
    new = old.replace("line 20\n", "line twenty\n")
    html = str(diffs.diff_html(old, new, fold=True))
    assert "<del>20</del><ins>twenty</ins>" in html
    assert "line 18" in html and "line 19" in html and "line 21" in html and "line 22" in html
    assert "line 5\n" not in html and "line 30" not in html
    assert "18 unchanged lines" in html and "17 unchanged lines" in html
    # Without folding, everything is there.
    assert "line 5\n" in str(diffs.diff_html(old, new))


def test_field_diffs_say_which_fields_changed():
    result = diffs.field_diffs(
        {"title": "A", "body": "same"}, {"title": "B", "body": "same"}, [("title", "Title"), ("body", "Text")]
    )
    assert [(d.name, d.changed) for d in result] == [("title", True), ("body", False)]
    assert str(result[0].html) == "<del>A</del><ins>B</ins>"
