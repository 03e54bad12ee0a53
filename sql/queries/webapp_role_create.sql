-- The web application's login role, when it does not exist yet (retail_platform/warehouse/roles.py fills in
-- the role as a quoted identifier); webapp_role_configure.sql then sets everything else.
CREATE ROLE {role} LOGIN;
