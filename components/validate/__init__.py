"""validate: TFDV statistics, schema, anomalies, skew and drift, with reports for the KFP UI."""
