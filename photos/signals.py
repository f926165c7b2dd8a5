"""Signals of the photos app, for apps that show photos (this one knows none of them).

`renditions_ready` is sent (kwargs `photo`, the ready `Photo`, and `job`:
the re-render job's id, or None for an upload) after a photo's renditions
are recorded, by the upload handler and the re-render job alike:
`posts.stored` connects to it to render the posts that show the photo
again. `RERENDER_JOB` is the kind of the re-render job (`photos.rerender`),
whose end (`myblog.signals.job_ended`) others may act on without importing
the image libraries that job loads.
"""

from django.dispatch import Signal

renditions_ready = Signal()

RERENDER_JOB = "photos.rerender"
