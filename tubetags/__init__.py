"""tubetags core: schemas, text rules, metrics, corpus streaming and the tag predictors.

Jobs (pipelines/, experiments/) and the web app import from here; nothing here starts a job. The one
command line (`tubetags.cli`, `tubetags.jobs`) only finds a job and runs it.
"""
