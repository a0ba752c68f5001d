import pytest

from mlrelay.local.pipeline_expressions import (
    ExpressionError,
    evaluate,
    parameter_values,
    read_property,
    step_references,
)

DECLARED = [
    {"Name": "RunId", "Type": "String"},
    {"Name": "Split", "Type": "Float", "DefaultValue": 0.2},
    {"Name": "Count", "Type": "Integer", "DefaultValue": 1},
]
SPLIT = {
    "ProcessingOutputConfig": {
        "Outputs": [
            {"OutputName": "train", "S3Output": {"S3Uri": "s3://b/runs/m/r/train"}},
            {"OutputName": "validation", "S3Output": {"S3Uri": "s3://b/runs/m/r/validation"}},
        ]
    }
}


def test_parameters_take_their_types_and_defaults():
    values = parameter_values(DECLARED, [{"Name": "RunId", "Value": "r1"}, {"Name": "Split", "Value": "0.3"}])

    assert values == {"RunId": "r1", "Split": 0.3, "Count": 1}


def test_a_parameter_without_value_or_default_is_an_error():
    with pytest.raises(ExpressionError, match="RunId"):
        parameter_values(DECLARED, [])


def test_get_and_join_evaluate():
    node = {
        "Uri": {"Std:Join": {"On": "/", "Values": ["s3://b/runs", {"Get": "Parameters.ModelName"}, {"Get": "Parameters.RunId"}, "model"]}},
        "Train": {"Get": "Steps.Split.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"},
        "Ratio": {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.Split"}]}},
        "Execution": {"Get": "Execution.PipelineExecutionId"},
        "Plain": ["a", 1],
    }

    value = evaluate(node, {"ModelName": "m", "RunId": "r1", "Split": 0.2}, {"PipelineExecutionId": "e1"}, {"Split": SPLIT})

    assert value == {
        "Uri": "s3://b/runs/m/r1/model", "Train": "s3://b/runs/m/r/train", "Ratio": "0.2", "Execution": "e1", "Plain": ["a", 1],
    }


def test_reading_a_step_that_has_not_run_is_an_error():
    with pytest.raises(ExpressionError, match="Split has not run"):
        evaluate({"Get": "Steps.Split.ProcessingOutputConfig"}, {}, {}, {})


def test_unsupported_functions_are_refused_by_name():
    with pytest.raises(ExpressionError, match="Std:JsonGet"):
        evaluate({"Std:JsonGet": {}}, {}, {}, {})


def test_step_references_find_every_step_read():
    node = {"a": [{"Get": "Steps.Split.X"}, {"Std:Join": {"On": "", "Values": [{"Get": "Steps.Train.Y"}]}}], "b": {"Get": "Parameters.X"}}

    assert step_references(node) == {"Split", "Train"}


def test_property_paths_index_lists_by_name_and_position():
    assert read_property(SPLIT, "ProcessingOutputConfig.Outputs['validation'].S3Output.S3Uri") == "s3://b/runs/m/r/validation"
    assert read_property(SPLIT, "ProcessingOutputConfig.Outputs[0].OutputName") == "train"
