def get_reads(wildcards):
    return config["samples"][wildcards.sample]
