"""Per-prediction explanations on the embedded stack: loaded with the predictions, in their transaction, once."""

import json

import pytest
from typer.testing import CliRunner

from chalicelib.inference.warehouse_sql import PredictionsTable, create_table_sqls
from mlrelay.cli.main import app
from mlrelay.local.state_file import write_state
from mlrelay.resume_client import wait_for_execution
from mlrelay.synthetic import FEATURE_COLUMNS
from mlrelay.warehouse_client import connection_from, run_statement

pytestmark = pytest.mark.functional
MODEL = "explained-pt"
TOP_K = 3
runner = CliRunner()


@pytest.fixture(scope="module")
def trained(aws):
    predictions = PredictionsTable(*aws.stack.info.outputs["PredictionsTableName"].split("."))
    run_statement(aws.data, connection_from(aws.stack.info.outputs), sqls=create_table_sqls(predictions))
    aws.drop_training_config(MODEL, monitoring={"explain_predictions": TOP_K})
    aws.stack.runtime.wait_idle()
    (run,) = aws.runs(f"train-{MODEL}-", timeout=240)
    assert run["status"] == "SUCCEEDED"


@pytest.fixture
def state_file(stack, tmp_path, monkeypatch):
    monkeypatch.setenv("MLRELAY_STATE_FILE", str(tmp_path / "local.json"))
    write_state(stack.info)


def one(aws, sql):
    return aws.stack.warehouse.query(sql)[0]


def test_a_monthly_runs_explanations_are_one_row_per_item_and_rank_beside_its_predictions_and_a_resume_loads_them_once(
    aws, trained, state_file,
):
    run_id = f"infer-{MODEL}-monthly-2031-08"
    # the database refuses the explanations' COPY once: the whole load (predictions too) is one transaction, undone
    aws.stack.faults.refuse_statement("COPY explain_", "ERROR: 1023 Serializable isolation violation", run_id=run_id)
    predictions, explanations = aws.stack.info.outputs["PredictionsTableName"], "mlrelay.explanations"

    failed = aws.monthly_run(MODEL, "2031-08")
    assert failed["status"] == "FAILED"
    assert one(aws, f"SELECT COUNT(*) FROM {predictions} WHERE run_id = '{run_id}'") == (0,)
    assert one(aws, f"SELECT COUNT(*) FROM {explanations} WHERE run_id = '{run_id}'") == (0,)

    answer = aws.invoke("resume_run", {"run_id": run_id})
    final = wait_for_execution(aws.sfn, answer["execution_arn"], timeout_seconds=180)
    assert final == "SUCCEEDED", aws.sfn.describe_execution(executionArn=answer["execution_arn"]).get("cause")

    (items,) = one(aws, f"SELECT COUNT(*) FROM {predictions} WHERE run_id = '{run_id}'")
    assert items == 1500
    assert one(aws, f"SELECT COUNT(*), COUNT(DISTINCT item_id), MIN(feature_rank), MAX(feature_rank) FROM {explanations} "
                    f"WHERE run_id = '{run_id}'") == (items * TOP_K, items, 1, TOP_K)
    assert one(aws, f"SELECT COUNT(*) FROM (SELECT item_id, feature_rank FROM {explanations} WHERE run_id = '{run_id}' "
                    "GROUP BY item_id, feature_rank HAVING COUNT(*) > 1) AS twice") == (0,)
    # every explanation joins its prediction, and explains the class that was predicted
    assert one(aws, f"SELECT COUNT(*), SUM(CASE WHEN e.explained = p.predicted_label THEN 1 ELSE 0 END) FROM {explanations} e "
                    f"JOIN {predictions} p ON p.run_id = e.run_id AND p.item_id = e.item_id WHERE e.run_id = '{run_id}'") == (
        items * TOP_K, items * TOP_K)
    copies = [sql for sql in aws.stack.warehouse.executed if sql.startswith("COPY explain_") and run_id in sql]
    assert len(copies) == 2  # refused once, then once more by the resumed load

    (item,) = one(aws, f"SELECT item_id FROM {predictions} WHERE run_id = '{run_id}' ORDER BY item_id LIMIT 1")
    shown = runner.invoke(app, ["explain", MODEL, item, "--json"])
    assert shown.exit_code == 0, shown.output
    ranked = json.loads(shown.output)
    assert [r["feature_rank"] for r in ranked] == [1, 2, 3] and {r["feature"] for r in ranked} <= set(FEATURE_COLUMNS)
    assert [abs(float(r["attribution"])) for r in ranked] == sorted((abs(float(r["attribution"])) for r in ranked), reverse=True)
    assert {r["run_id"] for r in ranked} == {run_id}
