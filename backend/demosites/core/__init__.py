"""Core: config, db, security, errors, clock — and the `id` path convertor every router uses."""

from starlette.convertors import Convertor, register_url_convertor


class IdConvertor(Convertor[int]):
    """`{application_id:id}`: an id segment is digits (a sign allowed), so a literal sibling such
    as `/applications/transitions` never falls into the `{id}` route (422 for a non-integer id,
    and that route's methods in `Allow`), while an out-of-range id still reaches the route and is
    refused by its bounds (422), as before. Registered here, before any router compiles a path:
    every router imports from demosites.core, and an unknown convertor fails at import."""

    regex = "-?[0-9]+"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(int(value))


register_url_convertor("id", IdConvertor())
