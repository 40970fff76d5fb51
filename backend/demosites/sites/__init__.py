"""After the award (示范点动态管理): sites, inspections, rectification, delisting, publicity, 公示."""
