-- Users signed in through an organization IdP are known by (issuer, subject);
-- group memberships that come from the IdP's groups claim are marked so that
-- sign-in can sync them without touching memberships managed in the console.

ALTER TABLE users ADD COLUMN idp_issuer TEXT;
ALTER TABLE users ADD COLUMN idp_subject TEXT;
CREATE UNIQUE INDEX users_idp_identity ON users(idp_issuer, idp_subject);

ALTER TABLE group_members ADD COLUMN source TEXT NOT NULL DEFAULT 'console'
    CHECK (source IN ('console', 'idp'));
