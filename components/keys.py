"""Artifact keys and file names, defined once and shared by components, pipelines and tests."""

# ingest outputs
TRAIN = "train"
EVAL = "eval"
SPLITS = (TRAIN, EVAL)
DATA_FILE = "data.parquet"

# validate outputs
STATISTICS = "statistics"
SCHEMA = "schema"
ANOMALIES = "anomalies"
REPORT_HTML = "report_html"
REPORT_MARKDOWN = "report_markdown"
INFERENCE_SERVICE = "inference_service"  # deploy's rendered InferenceService (YAML)
SCHEMA_FILE = "schema.pbtxt"
STATS_FILE = "{split}.stats.pb"
ANOMALIES_FILE = "{split}.anomalies.pbtxt"
DECISION_FILE = "decision.json"

# evaluate outputs
EVALUATION_FILE = "evaluation.json"
