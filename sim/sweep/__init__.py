"""Sweeps as a product: job status and resume, aggregation, comparison figures, HTML report."""
