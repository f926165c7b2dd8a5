"""Word-level differences between two texts, as escaped HTML with `<del>` and `<ins>`.

Used wherever an editor compares two versions of a post: two revisions in
the history, a revision against the live post before restoring it, and
their own refused save against what someone else saved meanwhile.

Texts are split into tokens: runs of word characters, runs of whitespace,
and single other characters (so Markdown's `**`, `#` and `[`...`](`...`)`
differ by the character, not by the whole word around them). Long texts
are compared line by line first and word by word only inside the lines
that changed, which keeps a 100 KB body fast; a changed block too large
to compare word by word is shown as deleted and inserted whole.

Every piece of text is escaped here: the result is safe to put in a page
whatever the texts hold (HTML, script, Markdown).
"""

import re
from difflib import SequenceMatcher
from typing import NamedTuple

from django.utils.html import escape
from django.utils.safestring import mark_safe

EQUAL, DELETE, INSERT = "equal", "delete", "insert"
TOKEN = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)
# Word-by-word comparison of one changed block is at worst quadratic in its tokens.
MAX_BLOCK_TOKENS = 4000
# Unchanged lines shown around a change; longer unchanged stretches are folded.
CONTEXT_LINES = 2


def tokens(text):
    return TOKEN.findall(text or "")


def _merge(pieces):
    """Adjacent pieces of the same kind joined, empty ones dropped."""
    merged = []
    for kind, text in pieces:
        if not text:
            continue
        if merged and merged[-1][0] == kind:
            merged[-1] = (kind, merged[-1][1] + text)
        else:
            merged.append((kind, text))
    return merged


def _group(pieces):
    """Each run of changes as one deletion then one insertion.

    Whitespace alone between two changes joins them: "about word and more"
    -> "completely different" reads as one replacement, not as words
    interleaved around a kept space.
    """
    grouped, deleted, inserted = [], [], []

    def flush():
        grouped.extend([(DELETE, "".join(deleted)), (INSERT, "".join(inserted))])
        deleted.clear()
        inserted.clear()

    for index, (kind, text) in enumerate(pieces):
        between_changes = 0 < index < len(pieces) - 1 and not text.strip()
        if kind == EQUAL and between_changes and (deleted or inserted):
            deleted.append(text)
            inserted.append(text)
        elif kind == EQUAL:
            flush()
            grouped.append((kind, text))
        else:
            (deleted if kind == DELETE else inserted).append(text)
    flush()
    return _merge(grouped)


def _word_pieces(old, new):
    a, b = tokens(old), tokens(new)
    if len(a) + len(b) > MAX_BLOCK_TOKENS:
        return [(DELETE, old), (INSERT, new)]
    pieces = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append((EQUAL, "".join(a[i1:i2])))
        else:
            pieces.append((DELETE, "".join(a[i1:i2])))
            pieces.append((INSERT, "".join(b[j1:j2])))
    return _group(_merge(pieces))


def word_diff(old, new):
    """[(kind, text)] with kind EQUAL, DELETE or INSERT: `old` becomes `new`.

    Joining the EQUAL and DELETE texts gives `old`; the EQUAL and INSERT
    texts give `new`.
    """
    old, new = old or "", new or ""
    if old == new:
        return [(EQUAL, old)] if old else []
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    pieces = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append((EQUAL, "".join(a[i1:i2])))
        else:
            pieces.extend(_word_pieces("".join(a[i1:i2]), "".join(b[j1:j2])))
    return _merge(pieces)


def _fold(text, first, last, starts_mid_line):
    """An unchanged stretch, with its middle lines folded away when it is long.

    A stretch that starts or ends inside a changed line keeps that line's
    rest on top of its context lines.
    """
    lines = text.splitlines(keepends=True)
    keep_head = 0 if first else CONTEXT_LINES + starts_mid_line
    keep_tail = 0 if last else CONTEXT_LINES + (not text.endswith("\n"))
    if len(lines) <= keep_head + keep_tail + 1:
        return escape(text)
    head, tail = "".join(lines[:keep_head]), "".join(lines[len(lines) - keep_tail :] if keep_tail else [])
    folded = len(lines) - keep_head - keep_tail
    marker = f'<span class="diff-fold">⋯ {folded} unchanged line{"s" if folded != 1 else ""} ⋯</span>\n'
    return escape(head) + marker + escape(tail)


def diff_html(old, new, fold=False):
    """The word diff of `old` -> `new` as safe HTML (`<del>` removed, `<ins>` added).

    With `fold`, long unchanged stretches of several lines show only the
    lines next to a change.
    """
    pieces = word_diff(old, new)
    html = []
    for index, (kind, text) in enumerate(pieces):
        if kind == DELETE:
            html.append(f"<del>{escape(text)}</del>")
        elif kind == INSERT:
            html.append(f"<ins>{escape(text)}</ins>")
        elif fold and len(pieces) > 1:
            starts_mid_line = index > 0 and not pieces[index - 1][1].endswith("\n")
            html.append(_fold(text, index == 0, index == len(pieces) - 1, starts_mid_line))
        else:
            html.append(escape(text))
    return mark_safe("".join(html))  # noqa: S308 -- every piece above is escaped


class FieldDiff(NamedTuple):
    name: str
    label: str
    old: str
    new: str
    html: str

    @property
    def changed(self):
        return self.old != self.new


def field_diffs(old, new, fields, fold=True):
    """A `FieldDiff` for each (name, label) of `fields`, from two {name: text} dicts."""
    return [
        FieldDiff(name, label, old.get(name, ""), new.get(name, ""), diff_html(old.get(name), new.get(name), fold))
        for name, label in fields
    ]
