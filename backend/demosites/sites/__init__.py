"""After the award (示范点动态管理): sites, inspections, rectification, delisting, publicity, 公示."""

# Registering the award hook and the 公示 guards whenever the domain is loaded.
from demosites.sites import hooks as _hooks  # noqa: F401,E402
