import pytest

from runtime.device_results import RESULT_STATUSES
from runtime.rows import STATUSES, make_row


def test_every_status_a_row_can_take_is_in_the_schema():
    # device results pass their own status through (ok, failed, unsupported); the rest are the report's.
    for status in (*RESULT_STATUSES, "not measured", "stale"):
        assert make_row(status=status)["status"] == status
    assert set(STATUSES) == {*RESULT_STATUSES, "not measured", "stale"}


def test_a_status_outside_the_schema_is_refused():
    with pytest.raises(AssertionError, match="skipped"):
        make_row(status="skipped")
