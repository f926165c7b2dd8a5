"""Development tooling: the local AWS stack, its event pump, mailbox and edge.

`manage.py runlocal` runs MyBlog on loopback against AWS's DynamoDB Local
and moto server; `runtests` runs the suite; `createtables` creates the
tables. None of it is deployed: `zappa_settings.json` excludes this package
from the Lambda zip, and the settings install the app only where it can be
imported. It changes endpoints and nothing else: the product code is the same.
"""
