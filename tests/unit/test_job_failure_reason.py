"""A failed job's reason, as SageMaker gives it: the code's failure file, else what its error says, the cause first."""

from mlrelay.local.sagemaker_jobs import _failure_reason

HANDLER_FAILED = """Traceback (most recent call last):
  File "train.py", line 30, in <module>
    train = pd.read_csv(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "train.csv"))
KeyError: 'SM_CHANNEL_TRAIN'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "train.py", line 33, in <module>
    trc = traceback.format_exc()
NameError: name 'traceback' is not defined
"""

NATIVE_CRASH = """Fatal Python error: Segmentation fault

Current thread 0x00007f3a1c5ff740 (most recent call first):
  File "/usr/lib/python3.11/ctypes/__init__.py", line 519 in string_at
/lib/x86_64-linux-gnu/libc.so.6(+0x42520)[0x7f3a1c642520]
#3 0x00007f3a1c6a2f4d in _ctypes_callproc
"""


def test_the_failure_file_the_code_wrote_is_the_reason(tmp_path):
    failure = tmp_path / "failure"
    failure.write_text("Exception during training: no 'validation' channel\n")
    assert _failure_reason("ValueError: something else", 1, failure) == "AlgorithmError: Exception during training: no 'validation' channel"


def test_an_error_in_the_codes_own_error_handler_names_the_error_it_was_handling():
    assert _failure_reason(HANDLER_FAILED, 1) == (
        "AlgorithmError: NameError: name 'traceback' is not defined (raised while the code was handling KeyError: 'SM_CHANNEL_TRAIN')")


def test_a_native_crash_is_told_by_its_message_not_by_a_frame_of_its_backtrace():
    assert _failure_reason(NATIVE_CRASH, -11) == "AlgorithmError: Fatal Python error: Segmentation fault"


def test_an_exception_or_an_exit_message_is_the_reason_as_before(tmp_path):
    traceback = 'Traceback (most recent call last):\n  File "t.py"\nValueError: bad rate\n'
    assert _failure_reason(traceback, 1) == "AlgorithmError: ValueError: bad rate"
    assert _failure_reason("no label in 200 rows\n", 1, tmp_path / "none") == "AlgorithmError: no label in 200 rows"
    assert _failure_reason("", 137) == "AlgorithmError: exit code 137"


def test_the_users_code_is_named_by_its_deepest_frame_not_the_librarys(tmp_path):
    code = tmp_path / "code"
    (code / "lib").mkdir(parents=True)
    traceback = f"""Traceback (most recent call last):
  File "{code}/train.py", line 40, in <module>
    train()
  File "{code}/lib/fit.py", line 12, in fit_model
    model.fit(x, y)
  File "/usr/lib/python3/site-packages/sklearn/base.py", line 1151, in wrapper
    return fit_method(estimator, *args, **kwargs)
ValueError: Input X contains NaN.
"""
    assert _failure_reason(traceback, 1, tmp_path / "none", code) == (
        "AlgorithmError: ValueError: Input X contains NaN. (lib/fit.py, line 12, in fit_model)")
    assert _failure_reason(traceback, 1, tmp_path / "none") == "AlgorithmError: ValueError: Input X contains NaN."
    assert _failure_reason("no label in 200 rows\n", 1, tmp_path / "none", code) == "AlgorithmError: no label in 200 rows"
