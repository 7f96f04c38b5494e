"""Experiment jobs: `train` (one strategy, one seed), `experiment` (every strategy over seeds),
`open_vocab` (the closed model merged with transcript keyphrases). Comparing and promoting is
`scripts/compare.py` over `tubetags.evaluation`."""
