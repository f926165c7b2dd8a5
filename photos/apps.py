from django.apps import AppConfig


class PhotosConfig(AppConfig):
    """Uploaded photos: originals in S3, their renditions, and how pages show them.

    Photos belong to an owner (an opaque key: for MyBlog, a post's slug)
    but know nothing about what owns them; the apps that show photos use
    this one, never the other way round.
    """

    name = "photos"
    verbose_name = "Photos"
