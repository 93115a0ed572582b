"""ingest: read a CSV/Parquet source (local or gs://) and split it into train/eval Parquet."""
