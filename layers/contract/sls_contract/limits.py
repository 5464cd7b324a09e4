"""AWS service limits the contract enforces before anything is sent (from the AWS documentation)."""

BATCH_JOB_NAME_MAX = 128
BATCH_TIMEOUT_MIN_SECONDS = 60
BATCH_RETRY_ATTEMPTS = (1, 10)
BATCH_EVALUATE_ON_EXIT_MAX = 5
BATCH_GLOB_MAX = 512
BATCH_PRIORITY = (0, 9999)
BATCH_TAGS_MAX = 50
BATCH_TAG_KEY_MAX = 128
BATCH_TAG_VALUE_MAX = 256
BATCH_TERMINATE_JOBS_MAX = 50
BATCH_DESCRIBE_JOBS_MAX = 100
BATCH_REASON_MAX = 1024
# "SubmitJob: 50 transactions per second" per account (AWS Batch service quotas): the fastest a queue
# of job specs can drain into Batch.
BATCH_SUBMIT_JOB_TPS = 50
# Array jobs: "an array size (between 2 and 10,000)".
BATCH_ARRAY_SIZE = (2, 10_000)
# "Maximum job payload size (for SubmitJob API operations): 30 KiB" (AWS Batch service quotas).
BATCH_SUBMIT_JOB_PAYLOAD_MAX = 30 * 1024

SQS_SEND_BATCH_MAX = 10
# SQS accepts up to 1 MiB per message since 2025, but Lambda's SQS event source and older clients
# still assume 256 KiB; staying under that keeps every path working.
SQS_MESSAGE_MAX_BYTES = 256 * 1024

DYNAMODB_BATCH_GET_MAX = 100
DYNAMODB_BATCH_WRITE_MAX = 25
