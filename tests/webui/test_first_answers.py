"""webui/first_answers.py: one computation per photo digest, whoever asks first; the quick path never waits for a
slot; errors reach every waiter and are not kept."""

from __future__ import annotations

import threading
import time

import pytest

from webui.first_answers import FirstAnswers, digest_of_bytes, digest_of_file


class Held:
    """A computation that starts, then waits until the test releases it: ``held.compute`` returns ``value`` (or
    raises ``error``); ``held.calls`` counts its runs."""

    def __init__(self, value=None, error: Exception | None = None) -> None:
        self.value, self.error, self.calls = value, error, 0
        self.started, self.release = threading.Event(), threading.Event()

    def compute(self):
        self.calls += 1
        self.started.set()
        self.release.wait(5)
        if self.error is not None:
            raise self.error
        return self.value


def test_digests_of_bytes_and_of_the_same_file_agree(tmp_path):
    data = b"\x89PNG" + bytes(range(256)) * 9000  # over one read chunk
    path = tmp_path / "photo.png"
    path.write_bytes(data)
    assert digest_of_file(path) == digest_of_bytes(data)
    assert digest_of_file(tmp_path / "gone.png") is None
    assert digest_of_bytes(data + b"x") != digest_of_bytes(data)


def test_two_requests_for_one_photo_share_one_computation():
    answers: FirstAnswers[int] = FirstAnswers(slots=1)
    held, other = Held(42), Held(0)
    results = []
    quick = threading.Thread(target=lambda: results.append(answers.get("photo", held.compute, quick=True)))
    quick.start()
    assert held.started.wait(5)
    queued = threading.Thread(target=lambda: results.append(answers.get("photo", other.compute)))
    queued.start()
    time.sleep(0.1)
    assert answers.counts().running == 1 and not results  # the second one waits for the first one's result
    held.release.set()
    quick.join(5), queued.join(5)
    assert results == [42, 42] and (held.calls, other.calls) == (1, 0)
    counts = answers.counts()
    assert (counts.computed, counts.shared, counts.busy, counts.running) == (1, 1, 0, 0)
    assert answers.get("photo", lambda: 0) == 42  # kept: a later request for the same bytes is answered at once


def test_the_quick_path_gives_up_at_once_when_no_slot_is_free():
    answers: FirstAnswers[str] = FirstAnswers(slots=1)
    held = Held("a")
    first = threading.Thread(target=lambda: answers.get("a", held.compute, quick=True))
    first.start()
    assert held.started.wait(5)
    begin = time.monotonic()
    assert answers.get("b", lambda: "b", quick=True) is None  # another photo: no slot, no wait
    assert time.monotonic() - begin < 0.5
    assert answers.get("b", lambda: "b") == "b"  # the queued event (already limited by Gradio) always computes
    held.release.set()
    first.join(5)
    counts = answers.counts()
    assert counts.busy == 1 and counts.max_running_quick == 1
    assert answers.get("c", lambda: "c", quick=True) == "c"  # the slot is free again


def test_an_error_reaches_every_waiter_and_is_not_kept():
    answers: FirstAnswers[int] = FirstAnswers(slots=2)
    held = Held(error=ValueError("bad photo"))
    errors = []

    def ask(**kwargs) -> None:
        try:
            answers.get("bad", held.compute, **kwargs)
        except ValueError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=ask, kwargs={"quick": True})]
    threads[0].start()
    assert held.started.wait(5)
    threads.append(threading.Thread(target=ask))
    threads[1].start()
    time.sleep(0.1)
    held.release.set()
    for thread in threads:
        thread.join(5)
    assert errors == ["bad photo", "bad photo"]
    assert answers.get("bad", lambda: 7) == 7  # forgotten: computed again
    assert answers.counts().running == 0


def test_old_and_surplus_results_are_dropped():
    answers: FirstAnswers[int] = FirstAnswers(slots=1, capacity=2, ttl_s=0.2)
    for key in "abc":
        answers.get(key, lambda key=key: ord(key))
    assert answers.get("a", lambda: -1) == -1  # the oldest of three went (capacity 2)
    time.sleep(0.3)
    assert answers.get("c", lambda: -3) == -3  # past its time
    assert answers.get(None, lambda: 5) == 5 and answers.get(None, lambda: 5, quick=True) is None  # nothing to share


def test_it_refuses_a_configuration_that_could_never_answer():
    with pytest.raises(ValueError):
        FirstAnswers(slots=0)
