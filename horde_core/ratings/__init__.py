"""The rating pool's domain: which rater to believe (a pure rule), the dataset's labels and names, and the
SQL behind the pool, the trust records and the export. The service owns the transactions."""
