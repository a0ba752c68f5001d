"""The trigger's checks of what a config points at, on an in-memory S3 (tests/functional/test_preflight.py drops them)."""

import threading

import pytest

from chalicelib.config.schema import ModelConfig
from chalicelib.intake.preflight import HEADER_BYTES, preflight_problems
from tests.conftest import valid_config
from tests.unit.fakes import FakeS3

HEADER = b"item_id,added_at,category,material,length_cm,width_cm,height_cm,weight_g,fragile,price,package_type\n"
TABLE = ("mlrelay-demo-data", "catalogue/train.csv")


def config(**overrides):
    return ModelConfig.model_validate(valid_config(**overrides))


def store_with(*tables):
    s3 = FakeS3()
    for (bucket, key), body in tables:
        s3.put(bucket, key, body)
    return s3


def problems(document, s3, timeout=5.0):
    return [(p.path, p.message) for p in preflight_problems(document, s3, timeout)]


def test_a_table_with_every_column_passes_reading_only_its_first_bytes():
    s3 = store_with((TABLE, HEADER + b"x" * 500_000))

    assert problems(config(), s3) == []
    assert s3.ranged_reads == [(*TABLE, HEADER_BYTES)]  # one read of the header, shared by training and the catalogue


def test_a_missing_feature_names_its_index_the_header_and_the_nearest_column():
    document = valid_config()
    document["data"]["feature_columns"] = ["length_cm", "colour", "Weight_g"]

    found = problems(config(data=document["data"]), store_with((TABLE, HEADER)))

    assert [path for path, _ in found] == ["data.feature_columns[1]", "data.feature_columns[2]"]
    assert "'colour' is not a column of s3://mlrelay-demo-data/catalogue/train.csv" in found[0][1]
    assert "its header has: item_id, added_at, category" in found[0][1]
    assert "did you mean 'weight_g'?" in found[1][1]


def test_a_missing_label_is_the_label_fields_problem():
    document = valid_config()
    document["data"]["label_column"] = "box_type"

    assert [path for path, _ in problems(config(data=document["data"]), store_with((TABLE, HEADER)))] == ["data.label_column"]


def test_a_table_that_is_not_there_is_refused_with_how_to_put_it_there():
    (found,) = problems(config(), FakeS3())

    assert found[0] == "data.uri"
    assert "no object at s3://mlrelay-demo-data/catalogue/train.csv" in found[1] and "mlrelay local put" in found[1]


def test_a_prefix_is_checked_by_its_first_csv_file():
    document = valid_config()
    document["data"]["uri"] = "s3://mlrelay-demo-data/catalogue/parts/"
    s3 = store_with((("mlrelay-demo-data", "catalogue/parts/_SUCCESS"), b"x"),
                    (("mlrelay-demo-data", "catalogue/parts/part-2.csv"), HEADER),
                    (("mlrelay-demo-data", "catalogue/parts/part-1.csv"), b"other,columns\n"))

    found = problems(config(data=document["data"]), s3)

    assert found and "s3://mlrelay-demo-data/catalogue/parts/part-1.csv" in found[0][1]


def test_daily_inference_needs_the_added_at_column_and_both_schedules_need_the_id():
    s3 = store_with((TABLE, HEADER.replace(b"item_id,added_at,", b"sku,")))

    daily_and_monthly = problems(config(), s3)
    monthly_only = problems(config(inference={"daily": False, "monthly": True}), s3)
    none = problems(config(inference={"daily": False, "monthly": False}), s3)

    assert [path for path, _ in daily_and_monthly] == ["inference.id_column", "inference.added_at_column"]
    assert "daily and monthly inference keys predictions by an item id" in daily_and_monthly[0][1]
    assert [path for path, _ in monthly_only] == ["inference.id_column"]
    assert none == []


def test_a_separate_catalogue_is_read_too_and_must_have_the_features():
    catalogue = ("mlrelay-demo-data", "catalogue/items.csv")
    s3 = store_with((TABLE, HEADER), (catalogue, b"item_id,added_at,length_cm\n"))

    (found,) = problems(config(inference={"catalogue_uri": "s3://mlrelay-demo-data/catalogue/items.csv"}), s3)

    assert found[0] == "inference.catalogue_uri" and "7 are not in the catalogue" in found[1]


def test_a_file_without_a_header_row_in_its_first_bytes_is_not_a_table():
    s3 = store_with((TABLE, b"x" * (HEADER_BYTES + 10)))

    (found,) = problems(config(inference={"daily": False, "monthly": False}), s3)

    assert found[0] == "data.uri" and "hold no complete header row" in found[1]


def test_an_empty_table_is_refused():
    (found,) = problems(config(inference={"daily": False, "monthly": False}), store_with((TABLE, b"")))

    assert found[0] == "data.uri" and "is empty" in found[1]


def test_a_missing_code_bundle_is_the_code_uri_problem():
    model = {"framework": "sklearn", "code_uri": "s3://artifacts/code/abc/sourcedir.tar.gz"}

    found = problems(config(model=model), store_with((TABLE, HEADER)))

    assert found == [("model.code_uri", "no code bundle at s3://artifacts/code/abc/sourcedir.tar.gz: "
                                        "`mlrelay submit CONFIG` packs model.source_dir and uploads it")]


def test_a_read_that_does_not_answer_in_time_is_a_problem_not_a_pass():
    released = threading.Event()

    class HangingS3(FakeS3):
        def first_bytes(self, bucket, key, max_bytes):
            released.wait(10)
            return super().first_bytes(bucket, key, max_bytes)

    s3 = HangingS3()
    s3.put(*TABLE, HEADER)
    try:
        found = problems(config(), s3, timeout=0.2)
    finally:
        released.set()

    assert [path for path, _ in found] == ["data.uri"]
    assert "could not read the header of s3://mlrelay-demo-data/catalogue/train.csv within 0.2 s" in found[0][1]
    assert "nothing was started" in found[0][1]


@pytest.mark.parametrize(("body", "said"), [
    (b"PAR1\x15\x04\x15\x10", "is a Parquet file, not a CSV table: pandas.read_parquet"),
    (b"\x1f\x8b\x08\x00rest", "is gzip-compressed, not a CSV table: gunzip it"),
    (b"PK\x03\x04\x14\x00", "is a zip archive (an .xlsx workbook is one), not a CSV table: export the sheet as CSV"),
    ("item_id,size\n1,2\n".encode("utf-16"), "is UTF-16 text, not a CSV table: save it as CSV UTF-8"),
    (b"item_id,caf\xe9\n1,2\n", "is not UTF-8 text (byte 0xe9 at position 11): save the table as CSV UTF-8"),
    (b"item_id,si\rze\n1,2\n", "is not a CSV table its header row can be read from (new-line character seen"),
])
def test_a_table_that_is_not_utf8_csv_is_refused_at_the_drop_naming_its_format_and_the_fix(body, said):
    found = problems(config(), store_with((TABLE, body)))

    assert found and {path for path, _ in found} == {"data.uri"}, found
    assert f"s3://mlrelay-demo-data/catalogue/train.csv {said}" in found[0][1]


def test_a_character_cut_by_the_ranged_read_is_not_taken_for_bad_utf8():
    body = HEADER + ("é" * HEADER_BYTES).encode()  # the 64 KiB read ends inside a two-byte character

    assert problems(config(), store_with((TABLE, body))) == []
