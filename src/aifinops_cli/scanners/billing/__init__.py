"""Billing exports: FOCUS, AWS CUR (legacy and 2.0) and GCP, locally or in Athena/BigQuery."""
