"""The serving functions called directly in one process: `python direct.py MODEL_DIR < rows.csv` prints what the
endpoint should answer for those rows (one request). Run with the sklearn image's Python."""

import sys

import serve

model = serve.model_fn(sys.argv[1])
sys.stdout.write(serve.output_fn(serve.predict_fn(serve.input_fn(sys.stdin.read(), "text/csv"), model), "text/csv"))
