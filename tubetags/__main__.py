"""`python -m tubetags JOB ...`: the same as the `tubetags` console script."""

from tubetags.cli import main

main()
