"""The embedded broker: a message is either invisible or whole to a reader, never half-written;
a worker's wait on it is short enough for Ctrl-C."""

import socket
import threading
import time

import pytest
from kombu import Connection

import portal.broker  # registers portalfs://

# Each test uses its own queue name: kombu keeps the declared bindings of a transport class in
# memory for the whole process, so a name reused in a new folder would route nowhere.


def connection(folder) -> Connection:
    return Connection(
        "portalfs://localhost//",
        transport_options={
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "control_folder": str(folder / "control"),
            "polling_interval": 0.01,
        },
    )


def test_a_partial_message_is_skipped_until_it_is_renamed_into_place(tmp_path):
    with connection(tmp_path) as conn:
        queue = conn.SimpleQueue("partial-jobs")
        queue.put({"n": 1})
        (written,) = tmp_path.glob("*.partial-jobs.msg")
        partial = written.with_name(written.name + ".partial")
        written.rename(partial)

        assert queue.qsize() == 0

        partial.rename(written)
        message = queue.get(timeout=1)
        message.ack()
        assert message.payload == {"n": 1}
        queue.close()


def test_a_reader_polling_beside_a_busy_writer_decodes_every_message(tmp_path):
    count = 400
    received, errors = [], []

    def consume():
        with connection(tmp_path) as conn:
            queue = conn.SimpleQueue("busy-jobs")
            try:
                while len(received) < count:
                    message = queue.get(timeout=10)
                    message.ack()
                    received.append(message.payload["n"])
            except Exception as exc:
                errors.append(exc)
            finally:
                queue.close()

    with connection(tmp_path) as conn:
        # Declared before the reader starts: kombu's exchange table (unlike its messages) is
        # not what this test is about, and Celery's default exchange never writes one.
        queue = conn.SimpleQueue("busy-jobs")
        reader = threading.Thread(target=consume)
        reader.start()
        for n in range(count):
            queue.put({"n": n, "padding": "x" * 4096})
        queue.close()
    reader.join(timeout=30)

    assert errors == []
    assert sorted(received) == list(range(count))


def test_a_wait_on_the_folder_comes_back_in_a_slice_so_a_worker_notices_ctrl_c(tmp_path):
    """Celery's loop for a polling transport asks for 2 s and looks for a shutdown only between
    waits; the slice bounds how long Ctrl-C waits on an idle worker."""
    with connection(tmp_path) as conn:
        queue = conn.SimpleQueue("idle-jobs")  # a consumer: the wait polls its folder
        started = time.monotonic()
        with pytest.raises(socket.timeout):
            conn.drain_events(timeout=2.0)
        waited = time.monotonic() - started
        queue.close()

    # Kombu's own transport returns only once the 2 s are spent.
    assert portal.broker.DRAIN_SLICE_SECONDS <= waited < 2.0
