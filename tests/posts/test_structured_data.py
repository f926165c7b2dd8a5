"""JSON-LD on post pages: BlogPosting and BreadcrumbList, escaped so no text can end the <script> block."""

import json
import re

import pytest

from tests.reader_fixtures import publish, ready_photo

pytestmark = pytest.mark.usefixtures("no_sql")


def _json_ld(html):
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert len(blocks) == 1
    return json.loads(blocks[0])


def _graph(html):
    data = _json_ld(html)
    assert data["@context"] == "https://schema.org"
    return {node["@type"]: node for node in data["@graph"]}


def test_a_post_page_describes_itself_as_a_blog_posting(aws, client):
    cover = ready_photo("ld-cover")
    publish(
        "structured",
        title="Structured & data",
        excerpt="What search engines read.",
        tags=["seo", "python"],
        author="Ada",
        body="word " * 500,
        cover_image=cover.key,
        cover_alt="A cover",
    )
    html = client.get("/posts/structured/").content.decode()
    graph = _graph(html)
    posting = graph["BlogPosting"]
    url = "https://blog.example.com/posts/structured/"
    assert posting["headline"] == "Structured & data" and posting["url"] == url
    assert posting["mainEntityOfPage"] == {"@type": "WebPage", "@id": url}
    assert posting["description"] == "What search engines read."
    assert posting["author"] == {"@type": "Person", "name": "Ada"}
    assert posting["publisher"]["name"] == "MyBlog"
    assert posting["keywords"] == ["seo", "python"] and posting["timeRequired"] == "PT3M"
    assert posting["datePublished"].endswith("Z") and posting["dateModified"] >= posting["datePublished"]
    [image] = posting["image"]
    assert image.startswith("https://d111111abcdef8.cloudfront.net/media/renditions/") and image.endswith(".jpg")
    og_image = re.search(r'<meta property="og:image" content="([^"]+)">', html).group(1)
    assert image == og_image
    crumbs = graph["BreadcrumbList"]["itemListElement"]
    assert [(crumb["position"], crumb["name"], crumb["item"]) for crumb in crumbs] == [
        (1, "MyBlog", "https://blog.example.com/"),
        (2, "#seo", "https://blog.example.com/tags/seo/"),
        (3, "Structured & data", url),
    ]


def test_a_post_without_tags_excerpt_or_cover_has_a_shorter_description(aws, client):
    publish("plain", tags=[], excerpt="")
    graph = _graph(client.get("/posts/plain/").content.decode())
    assert not {"image", "keywords", "description"} & set(graph["BlogPosting"])
    assert [crumb["name"] for crumb in graph["BreadcrumbList"]["itemListElement"]] == ["MyBlog", "Plain"]


def test_a_title_cannot_end_the_script_block(aws, client):
    title = '</script><script>alert("x")</script><!-- & -->'
    publish("escaping", title=title, excerpt="</SCRIPT>", author="<b>Ada</b>")
    html = client.get("/posts/escaping/").content.decode()
    assert html.count("<script") == 1 and html.count("</script>") == 1
    [block] = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert "<" not in block and ">" not in block and "&" not in block
    assert "\\u003C/script\\u003E" in block
    posting = _graph(html)["BlogPosting"]
    assert posting["headline"] == title and posting["description"] == "</SCRIPT>"
    assert posting["author"]["name"] == "<b>Ada</b>"


def test_the_content_security_policy_still_allows_no_script(aws, client):
    """A JSON-LD block is data, never executed: the policy keeps forbidding every script."""
    publish("csp")
    response = client.get("/posts/csp/")
    policy = dict(part.split(" ", 1) for part in response["Content-Security-Policy"].split("; "))
    assert policy["default-src"] == "'none'" and "script-src" not in policy
    assert re.findall(r"<script\b[^>]*>", response.content.decode()) == ['<script type="application/ld+json">']
