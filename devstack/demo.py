"""Demo content for a new local stack: a few posts, tags and photos.

Photos are generated (no files to ship) and uploaded under the originals
prefix like an editor's upload, so the thumbnail handler makes their
renditions through the event pump, exactly as in AWS.
"""

import io
import math
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from PIL import Image, ImageDraw

from myblog import aws
from posts import services
from posts.rules import PUBLISHED, SCHEDULED

POSTS = [
    {
        "slug": "hello-serverless-world",
        "title": "Hello, serverless world",
        "tags": ["aws", "django"],
        "days_ago": 9,
        "photo": ((30, 90, 160), (240, 180, 90)),
        "excerpt": "Why this blog runs on Lambda, DynamoDB and CloudFront, and what it costs.",
        "body": (
            "This blog is a Django site that runs on **AWS Lambda** through Zappa.\n\n"
            "- Posts live in *DynamoDB*, read with one `GetItem` or `Query` per page.\n"
            "- Photos go straight from the browser to S3; a Lambda makes the thumbnails.\n"
            "- Readers are served by CloudFront, so most requests never reach Lambda.\n\n"
            "> Fast, global and cheap: pick all three.\n"
        ),
    },
    {
        "slug": "designing-dynamodb-keys-for-pages",
        "title": "Designing DynamoDB keys for pages",
        "tags": ["aws", "dynamodb"],
        "days_ago": 5,
        "photo": ((20, 120, 90), (200, 230, 120)),
        "excerpt": "Start from the pages, then choose the keys: every read is a GetItem or a Query.",
        "body": (
            "## Start from the pages\n\n"
            "| Page | Call |\n|---|---|\n| Home | `Query published-index` |\n"
            "| Post | `GetItem slug` |\n| Tag | `Query post-tags` |\n\n"
            "```python\nPost.published_index.query('published', scan_index_forward=False)\n```\n"
        ),
    },
    {
        "slug": "thumbnails-without-servers",
        "title": "Thumbnails without servers",
        "tags": ["photos", "aws"],
        "days_ago": 2,
        "photo": ((140, 40, 60), (250, 210, 200)),
        "excerpt": "An S3 event, Pillow, and renditions in JPEG and WebP.",
        "body": (
            "Every upload triggers a small function that writes JPEG and WebP renditions in several widths.\n\n"
            '![Evening over the hills](photo:media/originals/demo/evening-hills.jpg "An inline photo: the page '
            'picks the rendition that fits the screen")\n\n'
            "The page offers every width in a `srcset`, WebP first, with its size set so nothing jumps.\n"
        ),
        "inline_photos": {"media/originals/demo/evening-hills.jpg": ((60, 30, 110), (250, 160, 90))},
    },
    {
        "slug": "writing-in-markdown",
        "title": "Writing in Markdown",
        "tags": ["writing"],
        "days_ago": 1,
        "photo": None,
        "excerpt": "Headings, lists, code and tables: what the editor supports.",
        "body": "Write in **Markdown**; raw HTML is sanitised, so <script>alert(1)</script> never runs.\n",
    },
]

SCHEDULED_POST = {
    "slug": "coming-next-week",
    "title": "Coming next week",
    "tags": ["writing"],
    "excerpt": "A scheduled post: invisible until its time comes.",
    "body": (
        "This post is scheduled: the scheduler publishes it when its time comes, "
        "and emails it to confirmed subscribers.\n"
    ),
    "email_subscribers": True,
}


def make_photo(top, bottom, size=(2400, 1600)):
    """A photographic-looking JPEG: a gradient sky, hills and a sun."""
    width, height = size
    gradient = Image.linear_gradient("L").resize(size)
    image = Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), gradient)
    draw = ImageDraw.Draw(image)
    draw.ellipse((width * 0.65, height * 0.15, width * 0.8, height * 0.15 + width * 0.15), fill=(255, 236, 170))
    for layer, shade in enumerate((0.55, 0.4, 0.25)):
        colour = tuple(int(c * shade) for c in top)
        points = [
            (x, height * (0.6 + 0.1 * layer) + math.sin(x / (180 + 60 * layer) + layer) * 70)
            for x in range(0, width + 40, 40)
        ]
        draw.polygon([(0, height), *points, (width, height)], fill=colour)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


def seed(user="admin", now=None):
    """Create the demo posts; returns their slugs. Call once per new stack."""
    now = now or timezone.now()
    s3 = aws.client("s3")
    slugs = []
    for spec in POSTS:
        cover = None
        if spec["photo"]:
            cover = f"{settings.MYBLOG_ORIGINALS_PREFIX}demo/{spec['slug']}.jpg"
            s3.put_object(
                Bucket=settings.MYBLOG_MEDIA_BUCKET,
                Key=cover,
                Body=make_photo(*spec["photo"]),
                ContentType="image/jpeg",
            )
        for key, colours in spec.get("inline_photos", {}).items():
            s3.put_object(
                Bucket=settings.MYBLOG_MEDIA_BUCKET, Key=key, Body=make_photo(*colours), ContentType="image/jpeg"
            )
        services.create_post(
            slug=spec["slug"],
            title=spec["title"],
            body=spec["body"],
            excerpt=spec["excerpt"],
            tags=spec["tags"],
            cover_image=cover,
            cover_alt=f"Illustration for “{spec['title']}”" if cover else "",
            status=PUBLISHED,
            publish_at=now - timedelta(days=spec["days_ago"]),
            user=user,
            now=now,
        )
        slugs.append(spec["slug"])
    services.create_post(
        status=SCHEDULED,
        publish_at=now + timedelta(days=7),
        user=user,
        now=now,
        **SCHEDULED_POST,
    )
    slugs.append(SCHEDULED_POST["slug"])
    services.create_post(
        slug="an-unfinished-draft", title="An unfinished draft", body="Drafts stay private.", user=user, now=now
    )
    slugs.append("an-unfinished-draft")
    return slugs
