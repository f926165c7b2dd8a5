"""The local AWS stack: AWS's DynamoDB Local and moto server on loopback.

Development and test tooling only (excluded from the Lambda package). It
changes endpoints and nothing else: the product code is the same.
"""
