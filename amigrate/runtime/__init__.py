"""The only package that awaits a database: contexts, the version table, the runner."""
