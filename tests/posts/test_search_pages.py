"""The search page and `GET /api/search`: results as cards, escaping, limits, states, paging, caching."""

import re

import pytest
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from posts import search
from tests.reader_fixtures import publish

pytestmark = pytest.mark.usefixtures("no_sql")


@pytest.fixture
def blog(aws, reindex):
    publish("kites-over-the-bay", days_ago=3, title="Kites over the bay", body="Kites, kites.", tags=["kites"])
    publish("boats", days_ago=2, title="Boats", body="A boat and one kite.", tags=["travel"])
    publish(
        "escaping",
        days_ago=1,
        title='<script>alert("kite")</script>',
        excerpt="<b>kite</b> & co",
        body="x",
        tags=["kites"],
    )
    reindex()


def _html(response):
    return response.content.decode()


def _result_slugs(html):
    return re.findall(r'<article aria-labelledby="post-([a-z0-9-]+)"', html)


def test_results_are_cards_best_first_with_the_words_marked(blog, client):
    response = client.get("/search/", {"q": "kites"})
    html = _html(response)
    assert response.status_code == 200
    assert _result_slugs(html) == ["kites-over-the-bay", "escaping", "boats"]
    assert '<a href="/posts/kites-over-the-bay/"><mark>Kites</mark> over the bay</a>' in html
    assert "noindex" not in html
    assert '<link rel="canonical" href="https://blog.example.com/search/?q=kites">' in html
    assert "3 posts found for “kites”" in html
    assert 'value="kites"' in html and "<script" not in html


def test_everything_a_reader_or_a_post_brings_is_escaped(blog, client):
    html = _html(client.get("/search/", {"q": '"><script>kite</script>'}))
    assert "<script" not in html
    assert 'value="&quot;&gt;&lt;script&gt;kite&lt;/script&gt;"' in html
    assert "&lt;<mark>script</mark>&gt;alert(&quot;<mark>kite</mark>&quot;)&lt;/<mark>script</mark>&gt;" in html
    assert "&lt;b&gt;<mark>kite</mark>&lt;/b&gt; &amp; co" in html


def test_the_empty_query_is_the_search_form_open_to_crawlers(blog, client, dynamodb_calls):
    for params in ({}, {"q": ""}, {"q": "   "}):
        response = client.get("/search/", params)
        html = _html(response)
        assert response.status_code == 200
        assert "noindex" not in html and 'rel="canonical" href="https://blog.example.com/search/"' in html
        assert 'role="search"' in html and '<label for="search-q">' in html and "<article" not in html
    assert dynamodb_calls.names == []


def test_no_results(blog, client):
    response = client.get("/search/", {"q": "zeppelin"})
    assert response.status_code == 200
    assert "No posts match “zeppelin”" in _html(response) and "<article" not in _html(response)
    # A soft 404: not to be indexed, and no canonical URL.
    assert '<meta name="robots" content="noindex">' in _html(response) and 'rel="canonical"' not in _html(response)


@pytest.mark.parametrize("text", ["kites over", "Kites  OVER", "  kites, over! ", "kítes over"])
def test_one_canonical_url_per_query_whatever_its_case_spacing_or_accents(blog, client, text):
    html = _html(client.get("/search/", {"q": text}))
    assert "noindex" not in html
    assert '<link rel="canonical" href="https://blog.example.com/search/?q=kites+over">' in html
    assert '<meta property="og:url" content="https://blog.example.com/search/?q=kites+over">' in html


def test_a_later_page_of_results_is_its_own_canonical_page(blog, client, monkeypatch):
    monkeypatch.setattr(search, "PAGE_SIZE", 2)
    html = _html(client.get("/search/", {"q": " KITE ", "page": "2"}))
    assert _result_slugs(html) == ["boats"]
    assert '<link rel="canonical" href="https://blog.example.com/search/?q=kite&amp;page=2">' in html


def test_errors_are_not_indexed(blog, client):
    html = _html(client.get("/search/", {"q": "x" * (search.MAX_QUERY_LENGTH + 1)}))
    assert '<meta name="robots" content="noindex">' in html and 'rel="canonical"' not in html


def test_search_is_not_disallowed_to_crawlers(aws, client):
    robots = client.get("/robots.txt").content.decode()
    disallowed = [line.split(":", 1)[1].strip() for line in robots.splitlines() if line.startswith("Disallow:")]
    assert disallowed and not any("/search/".startswith(path) for path in disallowed)


def test_paging(blog, client, monkeypatch):
    monkeypatch.setattr(search, "PAGE_SIZE", 2)
    first = _html(client.get("/search/", {"q": "kite"}))
    assert _result_slugs(first) == ["kites-over-the-bay", "escaping"]
    assert '<a href="/search/?q=kite&amp;page=2" rel="next">' in first and 'rel="prev"' not in first
    second = client.get("/search/", {"q": "kite", "page": "2"})
    assert _result_slugs(_html(second)) == ["boats"]
    assert '<a href="/search/?q=kite" rel="prev">' in _html(second) and 'rel="next"' not in _html(second)
    assert client.get("/search/", {"q": "kite", "page": "3"}).status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x" * (search.MAX_QUERY_LENGTH + 1)},
        {"q": " ".join(["kite"] * (search.MAX_QUERY_WORDS + 1))},
        {"q": "kite", "page": "0"},
        {"q": "kite", "page": "-1"},
        {"q": "kite", "page": "٣"},
        {"q": "kite", "page": str(search.MAX_PAGE + 1)},
        {"q": "kite", "page": "9" * 200},
    ],
)
def test_queries_over_the_limits_are_a_400_page_with_the_form(blog, client, params):
    response = client.get("/search/", params)
    assert response.status_code == 400
    assert 'role="alert"' in _html(response) and 'role="search"' in _html(response)
    assert response["Cache-Control"].startswith("public, max-age=60, s-maxage=300")  # caching.NEGATIVE


def test_results_are_cached_briefly_at_the_edge_and_answer_304(blog, client):
    response = client.get("/search/", {"q": "kites"})
    assert response["Cache-Control"] == "public, max-age=60, s-maxage=300, stale-if-error=3600"
    again = client.get("/search/", {"q": "kites"}, headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 304


def test_an_unreadable_index_is_a_brief_503(aws, client, monkeypatch):
    monkeypatch.setattr(settings, "MYBLOG_MEDIA_BUCKET", "no-such-bucket-here")
    response = client.get("/search/", {"q": "kites"})
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert "Search is unavailable right now" in _html(response)
    assert '<meta name="robots" content="noindex">' in _html(response)
    assert response["Cache-Control"] == "private, no-store"
    api = client.get("/api/search", {"q": "kites"})
    assert api.status_code == 503 and api.json()["error"]["code"] == "search_unavailable"


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(q=st.text(max_size=300), page=st.one_of(st.none(), st.text(max_size=5)))
def test_any_input_is_a_page_never_a_server_error(blog, client, q, page):
    params = {"q": q} if page is None else {"q": q, "page": page}
    assert client.get("/search/", params).status_code in (200, 400, 404)
    assert client.get("/api/search", params).status_code in (200, 400)


def test_the_header_has_a_labelled_search_box(aws, client):
    html = _html(client.get("/"))
    form = re.search(r'<form class="site-search" role="search" action="/search/" method="get">.*?</form>', html, re.S)
    assert form and '<label class="visually-hidden" for="site-search">Search posts</label>' in form.group()
    assert 'id="site-search" name="q"' in form.group()
    assert 'class="site-search"' not in _html(client.get("/search/"))  # the page's own form instead


# -- the API --------------------------------------------------------------------------------------


def test_the_api_answers_the_post_list_fields(blog, client, schema_checker):
    response = client.get("/api/search", {"q": "kites"})
    data = schema_checker.check(response, "/api/search")
    assert [item["slug"] for item in data["items"]] == ["kites-over-the-bay", "escaping", "boats"]
    assert data["total"] == 3 and data["page"] == 1 and data["next_page"] is None and data["query"] == "kites"
    listed = client.get("/api/posts").json()["items"]
    assert set(data["items"][0]) == set(listed[0])
    assert data["items"][1]["title"] == '<script>alert("kite")</script>'  # JSON carries text, not HTML


def test_the_api_pages(blog, client, schema_checker):
    first = schema_checker.check(client.get("/api/search", {"q": "kite", "limit": "2"}), "/api/search")
    assert len(first["items"]) == 2 and first["next_page"] == 2
    second = schema_checker.check(client.get("/api/search", {"q": "kite", "limit": "2", "page": "2"}), "/api/search")
    assert [item["slug"] for item in second["items"]] == ["boats"] and second["next_page"] is None
    past = schema_checker.check(client.get("/api/search", {"q": "kite", "page": "5"}), "/api/search")
    assert past["items"] == [] and past["total"] == 3


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": ""},
        {"q": "x" * (search.MAX_QUERY_LENGTH + 1)},
        {"q": " ".join(["a1"] * (search.MAX_QUERY_WORDS + 1))},
        {"q": "kite", "page": "0"},
        {"q": "kite", "limit": "51"},
        {"q": "kite", "cursor": "x"},
    ],
)
def test_the_api_refuses_bad_parameters_with_a_json_400(blog, client, schema_checker, params):
    response = client.get("/api/search", params)
    assert schema_checker.check(response, "/api/search")["error"]["code"] == "invalid_parameter"
    assert response.status_code == 400
