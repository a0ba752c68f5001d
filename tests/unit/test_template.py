import json

import pytest

from mlrelay.local.template import Template, TemplateError, references, resolve
from tests.conftest import ROOT

REFS = {"Stage": "dev", "Bucket": "b-1", "AWS::Region": "us-east-1"}
ATTS = {("Queue", "Arn"): "arn:aws:sqs:us-east-1:1:q"}


def _resolve(node):
    return resolve(node, REFS.__getitem__, lambda logical_id, attribute: ATTS[(logical_id, attribute)])


def test_intrinsics_resolve():
    assert _resolve({"Ref": "Bucket"}) == "b-1"
    assert _resolve({"Fn::GetAtt": ["Queue", "Arn"]}) == "arn:aws:sqs:us-east-1:1:q"
    assert _resolve({"Fn::GetAtt": "Queue.Arn"}) == "arn:aws:sqs:us-east-1:1:q"
    assert _resolve({"Fn::Sub": "mlrelay-${Stage}-${AWS::Region}"}) == "mlrelay-dev-us-east-1"
    assert _resolve({"Fn::Sub": "${Queue.Arn}/x"}) == "arn:aws:sqs:us-east-1:1:q/x"
    assert _resolve({"Fn::Sub": ["${Name}-${Stage}", {"Name": {"Ref": "Bucket"}}]}) == "b-1-dev"
    assert _resolve({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}) == "a-dev"
    assert _resolve({"List": [{"Ref": "Stage"}, 3]}) == {"List": ["dev", 3]}


def test_an_unsupported_intrinsic_is_refused_by_name():
    with pytest.raises(TemplateError, match="Fn::ImportValue"):
        _resolve({"Fn::ImportValue": "x"})


def test_references_see_through_sub_and_getatt_but_not_sub_locals():
    node = {"a": {"Fn::Sub": ["${Local}-${Stage}-${Queue.Arn}", {"Local": {"Ref": "Bucket"}}]}}

    assert references(node) == {"Stage", "Queue", "Bucket"}


def test_the_project_template_orders_dependencies_first():
    template = Template.load(ROOT / "infra" / "resources.json")

    order = template.creation_order(
        external={
            "OnConfigDropped", "OnPipelineStatus", "OnInferenceSchedule", "TrainingStep", "InferenceStep", "Alerts",
            "CheckDailyFreshness", "DecideModel",
        }
    )

    assert order.index("FailuresDeadLetterQueue") < order.index("FailuresQueue")
    assert order.index("ConfigBucket") < order.index("TrainConfigDroppedRule")
    assert order.index("RunsTable") < order.index("TrainingStateMachine")
    assert order.index("SageMakerExecutionRole") < order.index("TrainingPipeline")


def test_a_reference_to_nothing_is_an_error(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"Resources": {"A": {"Type": "AWS::SNS::Topic", "Properties": {"X": {"Ref": "Nope"}}}}}))

    with pytest.raises(TemplateError, match="Nope"):
        Template.load(path).creation_order(external=set())
