import csv

# The sample sheet, read when Snakemake parses the workflow (in each Batch job too).
with open(config["samples"]) as sheet:
    SAMPLES = {row["sample"]: row["reads"] for row in csv.DictReader(sheet, delimiter="\t")}


def get_reads(wildcards):
    return SAMPLES[wildcards.sample]
