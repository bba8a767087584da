"""The W3C CCG Status List 2021 draft, for older credentials: ``StatusList2021Entry`` ->
``StatusList2021Credential``, whose ``encodedList`` has no multibase prefix."""

from tradevc.vc.retrieval.status_types import StatusType

STATUS_TYPE = StatusType(
    entry_type="StatusList2021Entry",
    credential_type="StatusList2021Credential",
    subject_type="StatusList2021",
    multibase_prefix_optional=True,
)
