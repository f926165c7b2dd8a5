"""A listing's items (`posts.queries.listed_item`) carry what the full model would, dates and numbers included."""

from datetime import UTC, datetime

from posts import queries
from posts.models import Post


def test_a_listed_item_has_the_models_values_for_every_listing_attribute():
    post = Post(
        "kites",
        title="Red kites",
        excerpt="Over the ridge.",
        tags=["birds", "hills"],
        author="Ada",
        publish_at=datetime(2026, 11, 30, 8, 15, 30, 123456, tzinfo=UTC),
        updated_at=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        reading_minutes=7,
        body="Two kites.",
        body_html="<p>Two kites.</p>",
    )
    raw = post.serialize()
    for _ in range(2):  # the second time from the remembered dates and numbers
        listed = queries.listed_item(Post, raw, queries.FEED_ATTRIBUTES)
        model = Post.from_raw_data(raw)
        for name in queries.FEED_ATTRIBUTES:
            assert getattr(listed, name) == getattr(model, name), name
        assert listed.publish_at.tzinfo is not None and listed.publish_at.microsecond == 123456
        assert listed.reading_minutes == 7 and isinstance(listed.reading_minutes, int)
    other = {**raw, "publish_at": {"S": "2026-10-01T00:00:00.000000+0000"}}
    assert queries.listed_item(Post, other, ("publish_at",)).publish_at == datetime(2026, 10, 1, tzinfo=UTC)
