"""The Powertools Logger, registered once on the app as Chalice middleware (app.py).

No Tracer yet: its aws-xray-sdk dependency vendors botocore (15 MB) into the
Lambda zip; see docs/deploy.md, "Observability".
"""

from aws_lambda_powertools import Logger

logger = Logger(service="mlrelay")
