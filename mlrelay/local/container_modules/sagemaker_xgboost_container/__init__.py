"""mlrelay's stand-in for the XGBoost container's own module (aws/sagemaker-xgboost-container), which is not on PyPI.

It has what script-mode examples import: data_utils.get_dmatrix and
get_content_type, distributed.rabit_run, and encoder's csv_to_dmatrix and
libsvm_to_dmatrix, behaving as the container's on one host. On AWS the
container's own module runs.
"""
