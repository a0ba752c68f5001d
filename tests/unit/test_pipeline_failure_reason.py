"""Which step a failed training pipeline is said to have failed at: Train, when it wrote no model, whatever step met it."""

import io
import tarfile

from chalicelib.aws.sagemaker import PipelineOutcome
from chalicelib.pipeline_status.handler import failure_reason
from tests.unit.fakes import FakePipelineExecution, FakePorts

TRANSFORM_FAILED = "step TransformValidation: AlgorithmError: FileNotFoundError: [Errno 2] No such file: 'model.joblib'"
EXECUTION = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/mlrelay-test-training/execution/abc123"


def archive(files: dict[str, bytes]) -> bytes:
    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return packed.getvalue()


def outcome(failed_step="TransformValidation", reason=TRANSFORM_FAILED, trained_job="pipelines-abc-Train-1"):
    return PipelineOutcome("Failed", reason, failed_step, "train-pt-1", trained_job)


def started(parameters=None):
    """Ports with the execution, started for the run's model as the workflow starts it."""
    ports = FakePorts()
    ports.pipelines.executions[EXECUTION] = FakePipelineExecution(
        status="Failed", parameters={"ModelName": "pt", "RunId": "train-pt-1"} if parameters is None else parameters,
    )
    return ports


def put_model(ports, files):
    ports.s3.put(ports.artifact_bucket, "runs/pt/train-pt-1/model/pipelines-abc-Train-1/output/model.tar.gz", archive(files))


def test_an_empty_model_directory_is_the_failure_of_train():
    ports = started()
    put_model(ports, {})

    reason = failure_reason(EXECUTION, outcome(), ports)

    assert reason == (
        f"step Train: AlgorithmError: the training code wrote no files to SM_MODEL_DIR (s3://{ports.artifact_bucket}/runs/pt/"
        f"train-pt-1/model/pipelines-abc-Train-1/output/model.tar.gz holds none); then {TRANSFORM_FAILED}")


def test_a_model_with_files_leaves_the_failed_steps_own_reason():
    ports = started()
    put_model(ports, {"model.joblib": b"weights"})

    assert failure_reason(EXECUTION, outcome(), ports) == TRANSFORM_FAILED


def test_a_failure_at_train_or_without_a_trained_job_or_an_unreadable_artifact_is_told_as_it_is():
    ports = started()  # no artifact: the look fails, the step's reason stands

    assert failure_reason(EXECUTION, outcome(failed_step="Train", reason="step Train: x"), ports) == "step Train: x"
    assert failure_reason(EXECUTION, outcome(trained_job=""), ports) == TRANSFORM_FAILED
    assert failure_reason(EXECUTION, outcome(), ports) == TRANSFORM_FAILED


def test_an_execution_started_without_a_model_name_or_no_longer_there_is_told_as_it_is():
    ports = started(parameters={"RunId": "train-pt-1"})  # started before the pipelines took one
    put_model(ports, {})

    assert failure_reason(EXECUTION, outcome(), ports) == TRANSFORM_FAILED
    assert failure_reason(EXECUTION.replace("abc123", "gone"), outcome(), ports) == TRANSFORM_FAILED
