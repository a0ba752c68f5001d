import json

import pytest

from mlrelay.local.template import Template, TemplateError, evaluate_condition, references, resolve
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
            "CheckDailyFreshness", "DecideModel", "ResumeRun",
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


def test_fn_if_picks_by_the_conditions_section_and_no_value_leaves_the_key_out():
    conditions = {"HasKey": {"Fn::Not": [{"Fn::Equals": [{"Ref": "Key"}, ""]}]},
                  "Both": {"Fn::And": [{"Condition": "HasKey"}, {"Fn::Equals": ["a", "a"]}]}}
    node = {"Id": {"Fn::If": ["Both", {"Ref": "Key"}, {"Ref": "AWS::NoValue"}]},
            "List": ["x", {"Fn::If": ["HasKey", "y", {"Ref": "AWS::NoValue"}]}]}

    def with_key(key):
        refs = {"Key": key}
        return resolve(node, refs.__getitem__, None, lambda name: evaluate_condition(conditions, name, refs.__getitem__))

    assert with_key("k-1") == {"Id": "k-1", "List": ["x", "y"]}
    assert with_key("") == {"List": ["x"]}
    with pytest.raises(TemplateError, match="'Missing'"):
        evaluate_condition(conditions, "Missing", {}.__getitem__)


# What the stack stores at rest, and the property that names its key.
ENCRYPTED = {
    "AWS::DynamoDB::Table": lambda p: p["SSESpecification"].get("KMSMasterKeyId"),
    "AWS::SQS::Queue": lambda p: p.get("KmsMasterKeyId"),
    "AWS::SNS::Topic": lambda p: p.get("KmsMasterKeyId"),
    "AWS::Logs::LogGroup": lambda p: p.get("KmsKeyId"),
    "AWS::S3::Bucket": lambda p: p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    .get("KMSMasterKeyID"),
}
KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.mark.parametrize("key", [KEY, ""])
def test_a_customer_key_encrypts_everything_at_rest_and_without_one_the_aws_managed_keys_do(key):
    template = Template.load(ROOT / "infra" / "resources.json")
    refs = {**template.parameter_defaults(), "KmsKeyArn": key, "AWS::AccountId": "1", "AWS::Region": "eu-west-1"}
    conditions = template.document["Conditions"]

    def resolved(spec):
        return resolve(spec.get("Properties", {}), lambda name: refs.get(name, name), lambda lid, att: f"{lid}.{att}",
                       lambda name: evaluate_condition(conditions, name, lambda n: refs.get(n, n)))

    keys = {name: ENCRYPTED[spec["Type"]](resolved(spec)) for name, spec in template.declared().items() if spec["Type"] in ENCRYPTED}
    functions = {
        name: resolved(spec).get("KmsKeyArn") for name, spec in template.merge_only().items() if "FunctionName" in spec["Properties"]
    }

    # bucket, 5 tables, 5 queues, topic, 3 workflow and 9 function log groups; every function
    assert len(keys) == 25 and len(functions) == 9
    if key:
        assert set(keys.values()) == set(functions.values()) == {KEY}
    else:
        assert {name: value for name, value in keys.items() if value} == {"AlertsTopic": "alias/aws/sns"}
        assert set(functions.values()) == {None}
        queues = [resolved(spec) for spec in template.declared().values() if spec["Type"] == "AWS::SQS::Queue"]
        assert all(queue["SqsManagedSseEnabled"] is True for queue in queues)


def test_find_in_map_and_the_sub_escape_resolve_as_cloudformation_does():
    mappings = {"ImageRegistries": {"us-east-1": {"SageMakerFrameworks": "683313688378"}}}
    registry = {"Fn::FindInMap": ["ImageRegistries", {"Ref": "AWS::Region"}, "SageMakerFrameworks"]}
    node = {"Fn::Sub": ["${R}:${!aws:userid}", {"R": registry}]}

    assert resolve(node, REFS.__getitem__, lambda *_: "", mappings=mappings) == "683313688378:${aws:userid}"
    with pytest.raises(TemplateError, match="ImageRegistries.eu-west-9.SageMakerFrameworks"):
        resolve({"Fn::FindInMap": ["ImageRegistries", "eu-west-9", "SageMakerFrameworks"]}, REFS.__getitem__, lambda *_: "",
                mappings=mappings)


def test_the_image_registries_mapping_is_the_one_images_json_gives():
    # the SageMaker role pulls framework images only from these accounts: they must follow images.json
    images = json.loads((ROOT / "chalicelib" / "shared" / "images.json").read_text())["images"]
    mapping = json.loads((ROOT / "infra" / "resources.json").read_text())["Mappings"]["ImageRegistries"]
    for key, entry in images.items():
        sagemakers = entry["path"].startswith(("sagemaker-scikit-learn", "sagemaker-xgboost"))
        group = "SageMakerFrameworks" if sagemakers else "DeepLearningContainers"
        for region, account in entry["registries"].items():
            assert mapping[region][group] == account, (key, region)
