"""The container's error types, as sagemaker_algorithm_toolkit.exceptions defines them (release-3.0.5)."""


class BaseToolkitError(Exception):
    """UserError: the job's input is at fault; AlgorithmError: the algorithm; PlatformError: the environment."""

    def __init__(self, message=None, caused_by=None):
        if message:
            formatted = message
        elif caused_by:
            formatted = getattr(caused_by, "message", str(caused_by))
        else:
            formatted = "unknown error occurred"
        if caused_by:
            formatted += f" (caused by {caused_by.__class__.__name__})"
        super().__init__(formatted)
        self.message = formatted
        self.caused_by = caused_by


class AlgorithmError(BaseToolkitError):
    """A problem of the algorithm itself."""


class UserError(BaseToolkitError):
    """A problem of the job's configuration or input."""


class PlatformError(BaseToolkitError):
    """A problem of the platform underneath (e.g. network time-outs)."""
