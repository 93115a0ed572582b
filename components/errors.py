"""The project's error types: failures a user can act on, kept apart from internal ones.

Library errors (google-cloud, kubernetes) are wrapped where they happen as one of these, so the
`loopline` command catches one base type and the components fail with a message naming the cause.
"""


class LooplineError(Exception):
    """A failure the user can act on; the message names what is wrong and where."""


class LooplineInputError(LooplineError, ValueError):
    """Input the user supplied is unusable."""


class SourceError(LooplineInputError):
    """A data source is missing, empty, unparseable or lacks a required column."""


class DataValidationError(LooplineInputError):
    """The data failed validation and the policy is to stop the run."""


class StorageError(LooplineError):
    """A storage call (gs://) failed: a missing bucket, refused or missing credentials, the service unreachable."""


class KubernetesError(LooplineError):
    """The Kubernetes API refused a request or could not be reached (no kubeconfig, no in-cluster config)."""


class RolloutError(LooplineError):
    """A new InferenceService did not become Ready; traffic was rolled back, production is unchanged."""
