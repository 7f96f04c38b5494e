"""Data jobs: source adapters, corpus building, ingestion from YouTube."""
