"""The CloudFormation Outputs of template.yaml that clients read (tests check the template has them)."""

JOBS_QUEUE_URL = "JobsQueueUrl"
JOBS_DLQ_URL = "JobsDeadLetterQueueUrl"
JOBS_TABLE_NAME = "JobsTableName"
JOB_QUEUE_ARN = "JobQueueArn"
JOB_DEFINITION_ARN = "JobDefinitionArn"
REGION = "Region"

CLIENT_OUTPUTS = (JOBS_QUEUE_URL, JOBS_DLQ_URL, JOBS_TABLE_NAME, JOB_QUEUE_ARN, JOB_DEFINITION_ARN, REGION)

RUNS_BUCKET = "RunsBucketName"
RUN_REQUEST_PREFIX = "RunRequestPrefix"
COORDINATOR_STATE_MACHINE_ARN = "CoordinatorStateMachineArn"

RECONCILE_FUNCTION_NAME = "ReconcileFunctionName"
SUBMIT_FUNCTION_NAME = "SubmitFunctionName"  # the local cloud and tests: which worker handles the jobs queue

RUN_OUTPUTS = (RUNS_BUCKET, RUN_REQUEST_PREFIX, COORDINATOR_STATE_MACHINE_ARN, RECONCILE_FUNCTION_NAME)
