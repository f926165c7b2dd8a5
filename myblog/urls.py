"""The full URLconf: the CMS under /admin/, then the public site and the API.

Used for requests under /admin/ and by code outside requests (reverse() in
tests, commands, the scheduler). Readers' requests use `myblog.public_urls`
alone (see `myblog.public`), which is why the admin is discovered here and
not at start-up.
"""

from django.contrib import admin
from django.urls import path

from myblog import public_urls

admin.autodiscover()

urlpatterns = [
    path("admin/", admin.site.urls),
    *public_urls.urlpatterns,
]

handler400 = public_urls.handler400
handler403 = public_urls.handler403
handler404 = public_urls.handler404
handler500 = public_urls.handler500
