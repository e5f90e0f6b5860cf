"""The embedded broker: kombu's file-system transport, with messages that appear whole.

kombu's own `_put` creates the message file and then writes it, so a worker polling the folder
can pick up an empty or half-written file between the two, fail to decode it and stop
("Unrecoverable error: JSONDecodeError"). Here a message is written under a name the reader
ignores and renamed into place; a rename within one folder is atomic, so a reader sees either
nothing or the whole message. Registered as the `portalfs://` transport.
"""

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

SCHEME = "portalfs"


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        # The name kombu's reader looks for: "<ms>_<uuid>.<queue>.msg", oldest first.
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # "….msg.partial" does not match any queue's "<queue>.msg", so the reader skips it.
        partial = f"{final}.partial"
        try:
            with open(partial, "wb") as message:
                message.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add message {name!r} to the broker folder") from exc


class Transport(filesystem.Transport):
    Channel = Channel


TRANSPORT_ALIASES[SCHEME] = f"{__name__}:Transport"
