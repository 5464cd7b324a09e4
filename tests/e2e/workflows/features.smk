# Ordinary Snakemake features, written the way Snakemake's docs show them, none of them for this plugin:
# job groups, a checkpoint with a directory() output, a 30-way scatter, wildcards with '.', '+', spaces and
# non-ASCII, shell quoting, per-rule aws_batch_* resources, `runtime`, Snakemake-level retries and a
# declared environment variable.
import os

envvars:
    "SESSION_ID",

SAMPLES = [f"s{i:02d}" for i in range(30)]
ODD_NAMES = ["v1.2", "a+b", "with space", "naïve-Ünïcode"]


rule all:
    input:
        "scatter/total.txt",
        expand("odd/{name}.txt", name=ODD_NAMES),
        "grouped/b.txt",
        "checkpoint/sum.txt",
        "retry/done.txt",
        "quoting/out.txt",
        "env/session.txt",


rule scatter:
    output:
        "scatter/{sample}.txt",
    resources:
        aws_batch_mem_mb=512,
        aws_batch_job_name_prefix="feat",
        aws_batch_scheduling_priority=7,
        runtime=5,
    shell:
        "echo {wildcards.sample} > {output}"


rule gather:
    input:
        expand("scatter/{sample}.txt", sample=SAMPLES),
    output:
        "scatter/total.txt",
    shell:
        "cat {input} | wc -l | tr -d ' ' > {output}"


rule odd_names:
    output:
        "odd/{name}.txt",
    shell:
        "printf '%s\\n' {wildcards.name:q} > {output:q}"


rule group_first:
    output:
        "grouped/a.txt",
    group:
        "pair"
    shell:
        "echo a > {output}"


rule group_second:
    input:
        "grouped/a.txt",
    output:
        "grouped/b.txt",
    group:
        "pair"
    shell:
        "cat {input} > {output} && echo b >> {output}"


checkpoint split:
    output:
        directory("checkpoint/parts"),
    shell:
        "mkdir -p {output} && for i in 1 2 3 4; do echo $i > {output}/$i.txt; done"


def split_parts(wildcards):
    parts = checkpoints.split.get().output[0]
    return expand("checkpoint/parts/{i}.txt", i=glob_wildcards(os.path.join(parts, "{i}.txt")).i)


rule add_parts:
    input:
        split_parts,
    output:
        "checkpoint/sum.txt",
    shell:
        "awk '{{s += $1}} END {{print s}}' {input} > {output}"


rule flaky:
    output:
        "retry/done.txt",
    retries: 2
    resources:
        try_number=lambda wildcards, attempt: attempt,
    shell:
        "test {resources.try_number} -ge 2 && echo attempt {resources.try_number} > {output}"


rule quoting:
    output:
        "quoting/out.txt",
    params:
        text="it's \"quoted\" $HOME `not run` & ; | done",
    shell:
        "printf '%s\\n' {params.text:q} > {output}"


rule declared_env:
    output:
        "env/session.txt",
    shell:
        "echo $SESSION_ID > {output}"
