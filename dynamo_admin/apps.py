from django.apps import AppConfig


class DynamoAdminConfig(AppConfig):
    """Templates, static files and the placeholder base of the PynamoDB admin.

    Its system checks run with the admin's own (`DynamoModelAdmin.checks_class`),
    for every DynamoModelAdmin registered on an admin site.
    """

    name = "dynamo_admin"
    verbose_name = "DynamoDB admin"
