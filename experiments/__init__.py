"""Experiment jobs: train one strategy, run repeated seeds, evaluate, compare, promote."""
