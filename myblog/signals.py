"""Signals of MyBlog's shared parts, for the apps that build on them.

`job_ended` is sent (kwargs `job`, the `myblog.models.Job` as written, and
`state`) by `myblog.jobs.finish`, once, from the call that ended the job,
whatever ended it: its last unit counted, a cancel, a failure to queue. An
app whose job changed what readers see can purge the CDN then, in one
invalidation for the whole job (`posts.invalidation`, after a photo
re-render).
"""

from django.dispatch import Signal

job_ended = Signal()
