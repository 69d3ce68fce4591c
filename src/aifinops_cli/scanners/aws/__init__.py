"""AWS scanners (boto3, read-only, standard credential chain)."""
