# A pipe() rule the DAG gets only once a checkpoint has run.
import os


def counts(wildcards):
    parts = checkpoints.split.get().output[0]
    return expand("piped/{i}.count", i=glob_wildcards(os.path.join(parts, "{i}.txt")).i)


rule all:
    input:
        counts,


checkpoint split:
    output:
        directory("parts"),
    shell:
        "mkdir -p {output} && echo 1 > {output}/1.txt"


rule produce:
    input:
        "parts/{i}.txt",
    output:
        pipe("piped/{i}.numbers"),
    group:
        "stream"
    shell:
        "seq 1 5 > {output}"


rule consume:
    input:
        "piped/{i}.numbers",
    output:
        "piped/{i}.count",
    group:
        "stream"
    shell:
        "wc -l < {input} | tr -d ' ' > {output}"
