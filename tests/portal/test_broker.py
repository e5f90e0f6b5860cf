"""The embedded broker: a message is either invisible or whole to a reader, never half-written."""

import threading

from kombu import Connection

import portal.broker  # noqa: F401 - registers portalfs://

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
