"""The admin's Django-side stand-in for the PynamoDB `Post` (see `dynamo_admin.models`).

It gives posts their content type and permissions (`posts.publish_post`
among them); `posts.models` imports it so that Django loads it with the
app's models.
"""

from dynamo_admin.models import DynamoPlaceholder


class Post(DynamoPlaceholder):
    class Meta(DynamoPlaceholder.Meta):
        app_label = "posts"
        verbose_name = "post"
        verbose_name_plural = "posts"
        permissions = [("publish_post", "Can publish, schedule and unpublish posts")]
