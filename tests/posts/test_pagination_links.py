"""rel=prev/next on paged listings: in the head and the pager, newer and older pages, one Query more past the first."""

import re

import pytest

from tests.reader_fixtures import publish

pytestmark = pytest.mark.usefixtures("no_sql")


def _links(html):
    head = html.split("</head>", 1)[0]
    return dict(re.findall(r'<link rel="(prev|next)" href="([^"]+)">', head))


def _pager(html):
    nav = re.search(r'<nav class="pager" aria-label="Pagination">(.*?)</nav>', html, re.S)
    return dict(re.findall(r'<a href="([^"]+)" rel="(prev|next)">', nav.group(1))) if nav else {}


def _titles(html):
    return re.findall(r'<h2 id="post-[^"]+"><a href="[^"]+">([^<]+)</a>', html)


def _walk(client, first):
    """Follow rel=next from `first` to the last page, then rel=prev back; returns both paths."""
    forward, path = [], first
    while path:
        forward.append(path)
        html = client.get(path).content.decode()
        links = _links(html)
        assert {href: rel for rel, href in links.items()} == _pager(html)  # the head and the pager agree
        path = links.get("next")
    backward, path = [], forward[-1]
    while path:
        backward.append(path)
        path = _links(client.get(path).content.decode()).get("prev")
    return forward, backward


@pytest.mark.parametrize(("first", "tags"), [("/", ["aws"]), ("/tags/aws/", ["aws"])])
def test_prev_leads_back_through_the_pages_next_led_to(aws, client, first, tags):
    for day in range(25):
        publish(f"post-{day:02d}", days_ago=day + 1, tags=tags)
    forward, backward = _walk(client, first)
    assert len(forward) == 3 and backward == list(reversed(forward))
    assert "prev" not in _links(client.get(first).content.decode())
    seen = [title for path in forward for title in _titles(client.get(path).content.decode())]
    assert seen == [f"Post {day:02d}" for day in range(25)]


def test_a_single_page_has_neither(aws, client):
    publish("only")
    html = client.get("/").content.decode()
    assert _links(html) == {} and _pager(html) == {}


def test_a_page_whose_newer_page_has_shifted_points_to_the_ten_newer_posts(aws, client):
    for day in range(12):
        publish(f"post-{day:02d}", days_ago=day + 10)
    second = re.search(r'<a href="(/page/[^"]+/)" rel="next">', client.get("/").content.decode()).group(1)
    for day in range(3):
        publish(f"new-{day}", days_ago=day + 1)  # the second page keeps its posts; its newer page changes
    prev = _links(client.get(second).content.decode())["prev"]
    assert prev.startswith("/page/")
    assert _titles(client.get(prev).content.decode()) == [*(f"Post {day:02d}" for day in range(10))]


def test_older_pages_cost_one_query_more(aws, client, dynamodb_calls):
    for day in range(12):
        publish(f"post-{day:02d}", days_ago=day + 1, tags=["aws"])
    for first in ("/", "/tags/aws/"):
        dynamodb_calls.clear()
        second = re.search(r'<a href="([^"]*/page/[^"]+/)" rel="next">', client.get(first).content.decode()).group(1)
        assert dynamodb_calls.names == ["Query"]
        dynamodb_calls.clear()
        html = client.get(second).content.decode()
        assert dynamodb_calls.names == ["Query", "Query"]
        assert _links(html) == {"prev": first}
