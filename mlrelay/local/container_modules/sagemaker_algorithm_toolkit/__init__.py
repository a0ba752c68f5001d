"""mlrelay's stand-in for the XGBoost container's sagemaker_algorithm_toolkit (its error types), not on PyPI."""
