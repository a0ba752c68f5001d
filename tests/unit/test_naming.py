import json
import re

from chalicelib.config.schema import MAX_MODEL_NAME
from chalicelib.shared.naming import (
    MAX_EXECUTION_NAME,
    MAX_PACKAGE_GROUP_NAME,
    MAX_RUN_ID,
    config_stem,
    execution_name,
    model_of_package_group,
    package_group_name,
    resumed_execution_name,
)
from tests.conftest import ROOT

ALLOWED = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def test_same_identity_same_name():
    assert execution_name("train", "pt", "b", "k", "v1") == execution_name("train", "pt", "b", "k", "v1")


def test_any_identity_change_changes_the_name():
    names = {
        execution_name("train", "pt", "b", "k", "v1"),
        execution_name("train", "pt", "b", "k", "v2"),
        execution_name("train", "pt", "b2", "k", "v1"),
        execution_name("train", "pt", "b", "k2", "v1"),
    }
    assert len(names) == 4


def test_identity_parts_cannot_be_shifted_into_a_collision():
    assert execution_name("t", "r", "ab", "c") != execution_name("t", "r", "a", "bc")


def test_long_readable_part_is_cut_so_that_a_resume_suffix_still_fits_and_stays_unique():
    long_a = execution_name("train", "x" * 300, "a")
    long_b = execution_name("train", "x" * 300, "b")

    assert len(long_a) == MAX_RUN_ID
    assert len(resumed_execution_name(long_a, 99)) == MAX_EXECUTION_NAME
    assert long_a != long_b
    assert ALLOWED.match(long_a)


def test_unsafe_characters_are_replaced():
    name = execution_name("train", "my config (v2)!.json", "id")

    assert ALLOWED.match(name)
    assert name.startswith("train-my-config-v2-json-")


def test_config_stem():
    assert config_stem("configs/train/packaging-type.json") == "packaging-type"
    assert config_stem("configs/train/a.b.yaml") == "a"


def test_a_package_group_is_the_stages_and_maps_back_to_its_model():
    group = package_group_name("prod", "packaging-type")

    assert group == "mlrelay-prod-packaging-type"
    assert model_of_package_group("prod", group) == "packaging-type"
    assert model_of_package_group("dev", group) is None
    assert model_of_package_group("prod", "packaging-type") is None


def test_the_longest_model_name_of_the_longest_stage_fits_a_package_group():
    stages = json.loads((ROOT / "infra" / "resources.json").read_text())["Parameters"]["Stage"]["AllowedValues"]

    assert len(package_group_name(max(stages, key=len), "m" * MAX_MODEL_NAME)) <= MAX_PACKAGE_GROUP_NAME
