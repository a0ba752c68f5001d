"""DynamoDB items to and from plain Python values, with boto3's own type (de)serializers.

DynamoDB numbers travel as Decimal; here they come back as int when whole and
float otherwise, so metrics stay numbers end to end.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {name: to_attribute(value) for name, value in values.items()}


def to_attribute(value: Any) -> dict[str, Any]:
    return _serializer.serialize(_decimals(value))


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: from_attribute(attribute) for name, attribute in item.items()}


def from_attribute(attribute: dict[str, Any]) -> Any:
    return _numbers(_deserializer.deserialize(attribute))


def _decimals(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))  # repr round-trips: 0.914 stays 0.914
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_decimals(v) for v in value]
    return value


def _numbers(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return {_numbers(v) for v in value}
    return value
