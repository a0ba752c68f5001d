from chalicelib.pipeline_status.plan import SendFailure, SendSuccess, plan_callback
from mlrelay.local.transform_host import batches
from mlrelay.pipeline_builder.code import code_bundle


def test_success_answers_with_the_execution():
    assert plan_callback("arn:x", "Succeeded", "") == SendSuccess({"pipeline_execution_arn": "arn:x", "status": "Succeeded"})


def test_failure_carries_the_steps_reason():
    plan = plan_callback("arn:x", "Failed", "step Split: AlgorithmError: no CSV files")

    assert plan == SendFailure("PipelineFailed", "SageMaker pipeline execution failed: step Split: AlgorithmError: no CSV files (arn:x)")


def test_a_stop_is_a_failure_of_its_own_name():
    assert plan_callback("arn:x", "Stopped", "").error == "PipelineStopped"


def test_transform_batches_keep_lines_whole_and_in_order():
    text = "".join(f"{i},{'x' * 100}\n" for i in range(200_000))

    chunks = batches(text, "Line")

    assert len(chunks) > 1 and "".join(chunks) == text
    assert all(chunk.endswith("\n") for chunk in chunks)
    assert batches(text, "None") == [text]


def test_the_code_bundle_is_byte_for_byte_reproducible():
    first, second = code_bundle(), code_bundle()

    assert first == second
    assert {k.rsplit("/", 1)[-1] for k in first.objects} >= {"split.py", "evaluate.py", "sourcedir.tar.gz"}
    assert first.builtin.files == ("train.py",)
