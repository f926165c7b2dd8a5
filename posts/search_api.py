"""`GET /api/search?q=`: the search page's results as JSON, in the post list's shape of a post.

The same query, limits, ranking and cost as `/search/` (`posts.search`: no
DynamoDB call), paged by number. Described in `posts.openapi`.
"""

from myblog.jsonapi import ApiError, endpoint
from myblog.numbers import InvalidNumber, parse_whole_number
from posts import search
from posts.api import card_json

PARAMETERS = {"q", "page", "limit"}


def _number(request, name, default, maximum):
    value = request.GET.get(name)
    if value is None:
        return default
    try:
        return parse_whole_number(value, minimum=1, maximum=maximum)
    except InvalidNumber as error:
        raise ApiError(400, "invalid_parameter", f"{name} must be a whole number from 1 to {maximum}.") from error


@endpoint("GET", policy=search.RESULTS, validate_last_modified=False)
def search_posts(request):
    unknown = set(request.GET) - PARAMETERS
    if unknown:
        raise ApiError(400, "invalid_parameter", f"Unknown parameter: {', '.join(sorted(unknown))}.")
    text = request.GET.get("q")
    if not text:
        raise ApiError(400, "invalid_parameter", "q is required: the words to search for.")
    page = _number(request, "page", 1, search.MAX_PAGE)
    limit = _number(request, "limit", search.PAGE_SIZE, search.MAX_PAGE_SIZE)
    try:
        query = search.parse_query(text)
        results = search.search(query, page, limit)
    except search.InvalidQuery as error:
        raise ApiError(400, "invalid_parameter", str(error)) from error
    except search.SearchUnavailable as error:
        message = "Search is unavailable right now; try again in a minute."
        raise ApiError(503, "search_unavailable", message, headers={"Retry-After": "30"}) from error
    data = {
        "query": query.text,
        "total": results.total,
        "page": results.page,
        "items": [card_json(hit.card) for hit in results.hits],
        "next_page": results.next_page,
    }
    return data, 200
