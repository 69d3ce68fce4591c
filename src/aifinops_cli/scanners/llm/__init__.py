"""LLM request logs: read vendor logs with DuckDB, price them once per model, observe waste."""
