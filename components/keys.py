"""Artifact and output keys and file names, defined once and shared by components, pipelines and tests."""

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
SCHEMA_FILE = "schema.pbtxt"
STATS_FILE = "{split}.stats.pb"
ANOMALIES_FILE = "{split}.anomalies.pbtxt"
DECISION_FILE = "decision.json"
DATA_OK = "data_ok"

# train outputs
MODEL = "model"

# evaluate outputs (and infra-validate's decision)
EVALUATION = "evaluation"
EVALUATION_FILE = "evaluation.json"
APPROVED = "approved"
REASON = "reason"
INFRA_OK = "infra_ok"

# register outputs
VERSION = "version"
MODEL_CARD_HTML = "model_card_html"  # the version's model card (also kept in the registry)
MODEL_CARD_MARKDOWN = "model_card_markdown"

# monitor outputs
MONITORING = "monitoring"
MONITORING_FILE = "monitoring.json"
DECISION = "decision"

# retrain outputs
TRIGGERED = "triggered"

# deploy outputs
INFERENCE_SERVICE = "inference_service"  # the rendered InferenceService (YAML)
DEPLOYED = "deployed"
