"""The stages and regions the deploy rehearsal deploys (tests/deploy/conftest.py)."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
STAGE = "rehearsal"  # prod with "touch": false
SECONDARY_STAGE = "prod_eu"
HOME_REGION = "us-east-1"
SECONDARY_REGION = "eu-west-1"
STACK_PARAMETERS = {"Stage": "prod", "HomeRegion": HOME_REGION, "SecondaryRegion": SECONDARY_REGION}
