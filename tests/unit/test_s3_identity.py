"""What names the content of a table or bundle URI, on S3 (moto in memory) and in the fake the use cases run on."""

import boto3
import pytest
from moto import mock_aws

from chalicelib.aws.s3 import S3Objects
from tests.unit.fakes import FakeS3


@pytest.fixture(params=["s3", "fake"])
def store(request):
    if request.param == "fake":
        fake = FakeS3()
        yield fake, lambda key, body: fake.put("tables", key, body)
        return
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="tables")
        yield S3Objects(client), lambda key, body: client.put_object(Bucket="tables", Key=key, Body=body)


def test_an_object_is_named_by_its_content_and_a_prefix_by_its_csv_files_folder_marker_or_not(store):
    objects, put = store
    put("t.csv", b"a,b\n1,2\n")
    put("folder/", b"")  # the console's "Create folder" marker
    put("folder/part-1.csv", b"a,b\n1,2\n")
    table, folder, prefix = (objects.identity(f"s3://tables/{key}") for key in ("t.csv", "folder/", "folder/part"))

    put("t.csv", b"a,b\n1,2\n")  # the same bytes again
    assert objects.identity("s3://tables/t.csv") == table and table.startswith("etag:")
    put("t.csv", b"a,b\n1,3\n")
    put("folder/part-1.csv", b"a,b\n1,3\n")

    assert objects.identity("s3://tables/t.csv") != table
    assert objects.identity("s3://tables/folder/") != folder and folder.startswith("files:1:")
    assert objects.identity("s3://tables/folder/part") != prefix
