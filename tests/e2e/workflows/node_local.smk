# pipe.smk as this plugin's refusal of pipe() says to write it: the intermediate stays on the Batch instance.
rule all:
    input:
        "piped/count.txt",


rule produce:
    output:
        temp("piped/numbers.txt", group_jobs=True),
    group:
        "stream"
    shell:
        "seq 1 5 > {output}"


rule consume:
    input:
        "piped/numbers.txt",
    output:
        "piped/count.txt",
    group:
        "stream"
    shell:
        "wc -l < {input} | tr -d ' ' > {output}"
