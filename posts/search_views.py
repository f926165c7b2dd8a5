"""The search page, `/search/?q=`: a plain form and its results as cards, with no scripts.

Thin: the query is parsed and ranked by `posts.search` (no DynamoDB call).
The page with no query is the search form, open to crawlers. A page of
results may be indexed too, under one canonical URL per query (its words
normalised, `search.canonical_text`), so "Kites" and "kites " are one
page to search engines; a query with no results is a soft 404 and is
`noindex`, as are errors. Result pages are cached at the edge for minutes
only (`search.RESULTS`), since they change with the index. Whatever is
typed, the answer is a page: 400 for a query over the limits or a bad
page number, 404 for a page past the last, 503 (briefly) when the index
cannot be read.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from myblog import caching, public
from myblog.numbers import InvalidNumber, parse_whole_number
from myblog.views import not_found
from posts import search

RETRY_AFTER_SECONDS = 30


def _page_number(value):
    if value is None:
        return 1
    try:
        return parse_whole_number(value, minimum=1, maximum=search.MAX_PAGE)
    except InvalidNumber as error:
        raise search.InvalidQuery(f"Choose a page from 1 to {search.MAX_PAGE}.") from error


def _page_url(text, page):
    if page is None:
        return None
    parameters = {"q": text} if page == 1 else {"q": text, "page": page}
    return f"{reverse('posts:search')}?{urlencode(parameters)}"


def _render(request, context, status=200):
    context = {"max_length": search.MAX_QUERY_LENGTH, **context}
    return render(request, "posts/search.html", context, status=status, using=public.ENGINE)


@require_safe
@caching.public(search.RESULTS, validate_last_modified=False)
def search_page(request):
    text = request.GET.get("q", "")
    try:
        query = search.parse_query(text)
        page = _page_number(request.GET.get("page"))
    except search.InvalidQuery as error:
        context = {"query_text": text[: search.MAX_QUERY_LENGTH], "error": str(error), "noindex": True}
        return _render(request, context, status=400)
    if not query.text:
        return _render(request, {"canonical_url": settings.MYBLOG_SITE_URL + reverse("posts:search")})
    try:
        results = search.search(query, page)
    except search.SearchUnavailable:
        response = _render(request, {"query_text": query.text, "unavailable": True, "noindex": True}, status=503)
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    if page > 1 and not results.hits:
        return not_found(request)
    context = {
        "query_text": query.text,
        "results": results,
        "next_url": _page_url(query.text, results.next_page),
        "previous_url": _page_url(query.text, results.previous_page),
    }
    if results.hits:
        context["canonical_url"] = settings.MYBLOG_SITE_URL + _page_url(search.canonical_text(query.text), page)
    else:
        context["noindex"] = True  # nothing found: a soft 404
    return _render(request, context)
