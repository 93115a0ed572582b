"""User-facing errors: bad input the user can fix, kept apart from internal failures."""


class LooplineInputError(ValueError):
    """Input the user supplied is unusable; the message names what is wrong and where."""


class SourceError(LooplineInputError):
    """A data source is missing, empty, unparseable or lacks a required column."""


class DataValidationError(LooplineInputError):
    """The data failed validation and the policy is to stop the run."""
