"""W3C Bitstring Status List v1.0: ``BitstringStatusListEntry`` -> ``BitstringStatusListCredential``."""

from tradevc.vc.retrieval.status_types import StatusType

STATUS_TYPE = StatusType(
    entry_type="BitstringStatusListEntry",
    credential_type="BitstringStatusListCredential",
    subject_type="BitstringStatusList",
)
