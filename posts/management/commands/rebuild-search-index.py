from django.core.management.base import BaseCommand, CommandError

from posts import search_index


class Command(BaseCommand):
    help = (
        "Rebuild the search index from every live post (Queries on the published index) and store it in S3. "
        "Saving a post does this on its own; run it after a bulk import, or if a rebuild was logged as failed."
    )

    def handle(self, *args, **options):
        try:
            index, etag = search_index.rebuild()
        except search_index.RebuildFailed as error:
            raise CommandError(str(error)) from error
        bucket, key = search_index.location()
        self.stdout.write(f"Indexed {len(index['posts'])} live posts in s3://{bucket}/{key} (ETag {etag}).")
