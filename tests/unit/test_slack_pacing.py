"""Slack allows about one message a second: posts from one container are spaced out."""

from chalicelib.aws.slack import Pacer


class FakeTime:
    def __init__(self):
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds


def test_the_first_post_goes_at_once_and_the_next_waits_out_the_rest_of_the_interval():
    time = FakeTime()
    pacer = Pacer(clock=time.clock, sleep=time.sleep)

    pacer.wait_turn(1.0)
    time.now += 0.3  # the first post took 0.3 s
    pacer.wait_turn(1.0)
    time.now += 5  # a quiet spell
    pacer.wait_turn(1.0)

    assert [round(s, 3) for s in time.slept] == [0.7, 0.0]
