"""tubetags core: schemas, text rules, metrics, corpus streaming and the tag predictors.

Jobs (pipelines/, experiments/, scripts/) and the web app import from here; nothing here
starts a job or reads a command line.
"""
