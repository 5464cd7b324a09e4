import json


rule all:
    input:
        "flaky.txt",


rule flaky:
    output:
        "flaky.txt",
    resources:
        aws_batch_retry_strategy=json.dumps(
            {"attempts": 2, "evaluateOnExit": [{"action": "RETRY", "onExitCode": "7"}]}
        ),
    shell:
        'test "$AWS_BATCH_JOB_ATTEMPT" -ge 2 || exit 7; echo "attempt $AWS_BATCH_JOB_ATTEMPT" > {output}'
