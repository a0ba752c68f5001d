"""The container's error types (sagemaker_algorithm_toolkit.exceptions), by the names examples catch."""


class BaseToolkitError(Exception):
    def __init__(self, message=None, caused_by=None):
        self.message = message
        self.caused_by = caused_by
        super().__init__(message if caused_by is None else f"{message} (caused by {type(caused_by).__name__})")


class UserError(BaseToolkitError):
    """An error in what the job was given: its data, its hyperparameters."""


class AlgorithmError(BaseToolkitError):
    """An error of the algorithm itself."""
