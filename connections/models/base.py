"""The row id bound every input of an id is checked against."""

from __future__ import annotations

# Row ids are 64-bit (DEFAULT_AUTO_FIELD is BigAutoField): input above this is refused, not queried.
MAX_ROW_ID = 2**63 - 1
