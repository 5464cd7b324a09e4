"""`make chaos` (`python -m bench.chaos`): the reliability promises at 1,000 jobs, on the local cloud.

Each scenario gets a local cloud of its own with one kind of fault turned on (the array scenario: two
at once), runs a workload through it, and counts the outcome from Batch's own side (the local Batch's
job list), not from our records.
bench/RELIABILITY.md gets one PASS/FAIL line per scenario with the figures.
"""
