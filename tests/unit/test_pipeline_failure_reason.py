"""Which step a failed training pipeline is said to have failed at: Train, when it wrote no model, whatever step met it."""

import io
import tarfile

from chalicelib.aws.sagemaker import PipelineOutcome
from chalicelib.pipeline_status.handler import failure_reason
from tests.unit.fakes import FakePorts

TRANSFORM_FAILED = "step TransformValidation: AlgorithmError: FileNotFoundError: [Errno 2] No such file: 'model.joblib'"


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


def put_model(ports, files):
    ports.s3.put(ports.artifact_bucket, "runs/train-pt-1/model/pipelines-abc-Train-1/output/model.tar.gz", archive(files))


def test_an_empty_model_directory_is_the_failure_of_train():
    ports = FakePorts()
    put_model(ports, {})

    reason = failure_reason(outcome(), ports)

    assert reason == (
        f"step Train: AlgorithmError: the training code wrote no files to SM_MODEL_DIR (s3://{ports.artifact_bucket}/runs/"
        f"train-pt-1/model/pipelines-abc-Train-1/output/model.tar.gz holds none); then {TRANSFORM_FAILED}")


def test_a_model_with_files_leaves_the_failed_steps_own_reason():
    ports = FakePorts()
    put_model(ports, {"model.joblib": b"weights"})

    assert failure_reason(outcome(), ports) == TRANSFORM_FAILED


def test_a_failure_at_train_or_without_a_trained_job_or_an_unreadable_artifact_is_told_as_it_is():
    ports = FakePorts()  # no artifact: the look fails, the step's reason stands

    assert failure_reason(outcome(failed_step="Train", reason="step Train: x"), ports) == "step Train: x"
    assert failure_reason(outcome(trained_job=""), ports) == TRANSFORM_FAILED
    assert failure_reason(outcome(), ports) == TRANSFORM_FAILED
