"""runtime/report/rows.py: a row is checked against its schema when it is made and when it is read back."""
import pytest

from common.errors import UserError
from runtime.report.rows import STATUSES, Row
from runtime.device_results import RESULT_STATUSES


def test_every_status_a_row_can_take_is_in_the_schema():
    # device results pass their own status through (ok, failed, unsupported); the rest are the report's.
    for status in (*RESULT_STATUSES, "not measured", "stale"):
        assert Row(target="cpu", status=status, reason="why").status == status
    assert set(STATUSES) == {*RESULT_STATUSES, "not measured", "stale"}


@pytest.mark.parametrize("values, problem", [
    ({"status": "skipped", "reason": "x"}, "status 'skipped' is not one of"),
    ({"status": "failed"}, "status failed needs a reason"),
    ({"p50_us": "12"}, 'p50_us is "12", expected float \| None'),
    ({"batch": 1.5}, "batch is 1.5, expected"),
    ({"within_budget": 1}, "within_budget is 1, expected"),
    ({"accuracy_source": "guessed"}, "accuracy_source 'guessed' is not one of"),
])
def test_a_row_outside_the_schema_is_refused_even_under_python_O(values, problem):
    with pytest.raises(ValueError, match=problem):
        Row(target="cpu", **values)


def test_a_row_survives_the_round_trip_through_json_and_a_bad_one_is_named():
    row = Row(target="cpu", artifact="a", runtime="onnxruntime", batch=1, threads=1, p50_us=12.5, flags=["noisy"])
    assert Row.from_dict(row.to_dict(), "rows[0]") == row
    with pytest.raises(UserError, match=r"report.json: rows\[3\]: lacks 'target'"):
        Row.from_dict({"artifact": "a"}, "report.json: rows[3]")
