"""mlrelay's stand-in for the XGBoost container's own module (aws/sagemaker-xgboost-container), which is not on PyPI.

It has what script-mode examples import: data_utils.get_dmatrix and
distributed.rabit_run, behaving as the container's on one host. On AWS the
container's own module runs.
"""
