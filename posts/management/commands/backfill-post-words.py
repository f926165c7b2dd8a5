from django.core.management.base import BaseCommand

from posts import words


class Command(BaseCommand):
    help = (
        "Write the admin's word-search items (the post-words table) for every post. Saving a post keeps its "
        "own up to date; run this once for posts saved before the word search existed. Safe to run again."
    )

    def handle(self, *args, **options):
        def report(posts, items):
            self.stdout.write(f"… {posts} posts, {items} words")

        posts, items = words.backfill(report=report)
        self.stdout.write(f"Wrote {items} words of {posts} posts.")
