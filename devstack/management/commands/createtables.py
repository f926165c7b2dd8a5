from django.core.management.base import BaseCommand

from devstack.tables import ensure_tables


class Command(BaseCommand):
    help = "Create or update the DynamoDB tables of every MyBlog model (idempotent)."

    def handle(self, *args, **options):
        for line in ensure_tables():
            self.stdout.write(line)
