# pipe() as Snakemake's docs show it: producer and consumer in one group, the intermediate a FIFO.
rule all:
    input:
        "piped/count.txt",


rule produce:
    output:
        pipe("piped/numbers.txt"),
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
