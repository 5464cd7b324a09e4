"""The contract between the executor plugin and the Lambda handlers.

Every field name, table key, status and validation rule is defined once, here. The package is built
as a Lambda layer (layers/contract) and shipped inside the plugin's wheel; it depends only on pydantic
and boto3 (never on Powertools, so the plugin stays light).
"""
