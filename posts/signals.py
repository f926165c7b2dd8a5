"""The posts' signal, apart from `posts.services` (which sends it).

Receivers connect in `PostsConfig.ready()`; defining the signal here lets
them do so without importing the write path, which a reader's cold start
never uses.
"""

from django.dispatch import Signal

# Sent after a post is created, changed or deleted: kwargs `post` (None when
# deleted) and `previous` (None when created).
post_changed = Signal()
