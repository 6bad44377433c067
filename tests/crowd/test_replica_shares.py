"""How the crowd report splits a run between replicas: visitors by the replica that served them,
jobs by the one that followed them (a lease holder is a random name per process, named after the
replica most of its jobs' visitors were kept on)."""

from __future__ import annotations

from bench._crowd_report import followers, served_groups, stats_of
from bench._crowd_visitors import Visit


def visit(index: int, served_by: str, job: str | None) -> Visit:
    prediction = f"p-{job}" if job else None
    return Visit(index, f"browser:v{index}", job_id=job, prediction_id=prediction, served_by=served_by)


VISITS = [visit(0, "app1", "j0"), visit(1, "app2", "j1"), visit(2, "app2", "j2"), visit(3, "", None)]


def test_visitors_are_grouped_by_the_replica_that_served_them_and_every_replica_is_listed() -> None:
    groups = served_groups(VISITS, ["app1", "app2", "app3"])
    assert {name: [v.index for v in group] for name, group in groups.items()} == {
        "app1": [0],
        "app2": [1, 2],
        "app3": [],
        "no replica": [3],
    }


def test_a_lease_holder_takes_the_name_of_the_replica_most_of_its_visitors_were_on() -> None:
    """j2's visitor was on app2 but its job was taken over by app1's process: it counts for app1."""
    holders = {"j0": "holder-a", "j1": "holder-b", "j2": "holder-a", "j9": "holder-c"}
    assert followers([*VISITS, visit(4, "app1", "j4")], {**holders, "j4": "holder-a"}) == {
        "j0": "app1",
        "j1": "app2",
        "j2": "app1",
        "j4": "app1",
    }


def test_a_replica_s_stats_are_its_visitors_predictions_and_their_creates_only() -> None:
    stats = {
        "predictions": [{"id": "p-j0", "created_at": 5.0}, {"id": "p-j1", "created_at": 7.0}],
        "requests": {"create": [5.0, 7.0], "read": [6.0], "delivery": [9.0]},
    }
    mine = stats_of(stats, VISITS[:1])
    assert mine == {
        "predictions": [{"id": "p-j0", "created_at": 5.0}],
        "requests": {"create": [5.0], "read": [], "delivery": []},
    }
