"""`{% public_url %}`: the `{% url %}` of the public templates, remembered for the process.

Every public page links the same dozen addresses from its header and
footer (the feeds, the subscribe form, search, the API), and `reverse`
walks the URLconf for each of them on every request. `public.url` returns
what `reverse` would for the current URLconf and script prefix, from a
memo keyed by both: the same address, without the walk. A builtin of both
template engines (the error pages render the site's templates with the
default one).

    <a href="{% public_url 'posts:rss' %}">RSS</a>
    <a href="{% public_url 'posts:tag' tag %}">#{{ tag }}</a>
"""

from django import template

from myblog import public

register = template.Library()


@register.simple_tag(name="public_url")
def public_url(name, *args):
    return public.url(name, *args)
