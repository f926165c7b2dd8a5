"""A PynamoDB model that exists only for these tests, and its form.

`Note` has what the admin layer handles: a string hash key, a version
(optimistic locking), a list attribute (a "contains" filter), an "every item"
index and a status index (the list's sources), a datetime and a nullable
text.
"""

from django.utils import timezone
from pynamodb.attributes import ListAttribute, UnicodeAttribute, UTCDateTimeAttribute, VersionAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from dynamo_admin.forms import DynamoModelForm

KIND_NOTE = "note"
DRAFT, DONE = "draft", "done"
STATUS_CHOICES = [(DRAFT, "Draft"), (DONE, "Done")]


class NoteAllIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "all-index"
        projection = AllProjection()

    kind = UnicodeAttribute(hash_key=True)
    updated_at = UTCDateTimeAttribute(range_key=True)


class NoteStatusIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "status-index"
        projection = AllProjection()

    status = UnicodeAttribute(hash_key=True)
    updated_at = UTCDateTimeAttribute(range_key=True)


class Note(Model):
    class Meta:
        table_name = "dynamo-admin-tests-notes"
        region = "us-east-1"
        billing_mode = "PAY_PER_REQUEST"

    key = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(default=KIND_NOTE)
    title = UnicodeAttribute()
    status = UnicodeAttribute(default=DRAFT)
    tags = ListAttribute(of=UnicodeAttribute, default=list)
    body = UnicodeAttribute(null=True)
    updated_at = UTCDateTimeAttribute(default=timezone.now)
    version = VersionAttribute()

    all_index = NoteAllIndex()
    status_index = NoteStatusIndex()

    def __str__(self):
        return self.title


class NoteForm(DynamoModelForm):
    class Meta:
        model = Note
        fields = ["key", "title", "status", "tags", "body"]
        choices = {"status": STATUS_CHOICES}
