# ruff: noqa: F821 (`snakemake` is the object Snakemake gives a script: its input, output, params, log)
with open(snakemake.log[0], "w") as log:
    total = 0
    for path in snakemake.input:
        with open(path) as lines:
            total += sum(1 for _ in lines)
    with open(snakemake.output[0], "w") as out:
        print(f"{len(snakemake.input)} samples, {total} lines, rate {snakemake.params.rate}", file=out)
    print("summarized", file=log)
