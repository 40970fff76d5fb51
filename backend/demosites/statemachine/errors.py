"""The engine's own refusal, the same for every domain (stable problem code of the API contract)."""

from demosites.core.errors import Conflict


class InvalidTransition(Conflict):
    code, title = (
        "invalid_transition",
        "This action is not possible in the current stage / 当前环节不能进行此操作",
    )
