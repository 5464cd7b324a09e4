# A scatter as the Snakemake docs write one: expand() over a wildcard, one rule, a gather. With the
# array setting at or below the scatter's width, its jobs go to Batch as one array job.
import json

N = int(config.get("shards", 6))
FAIL = int(config.get("fail", -1))  # this shard exits 3
FLAKY = int(config.get("flaky", -1))  # this shard exits 7 on its first attempt (retried by Batch)
SLEEP = int(config.get("sleep", 0))


rule all:
    input:
        "gathered.txt",


rule shard:
    output:
        "shards/{i}.txt",
    resources:
        aws_batch_retry_strategy=json.dumps(
            {"attempts": 2, "evaluateOnExit": [{"action": "RETRY", "onExitCode": "7"}]}
        ),
    shell:
        """
        if [ {wildcards.i} -eq {FAIL} ]; then echo "shard {wildcards.i} breaks" >&2; exit 3; fi
        if [ {wildcards.i} -eq {FLAKY} ] && [ "$AWS_BATCH_JOB_ATTEMPT" -lt 2 ]; then exit 7; fi
        sleep {SLEEP}
        echo "{wildcards.i} $AWS_BATCH_JOB_ARRAY_INDEX $AWS_BATCH_JOB_ATTEMPT" > {output}
        """


rule gather:
    input:
        expand("shards/{i}.txt", i=range(N)),
    output:
        "gathered.txt",
    shell:
        "cat {input} > {output}"
