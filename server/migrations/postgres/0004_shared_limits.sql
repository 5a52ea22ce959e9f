-- Live limits every replica must agree on (issue 21): pairing links, the
-- nonces of device-authenticated requests, and rate-limit windows. The
-- same tables on SQLite (0010_shared_limits.sql) keep one implementation.
CREATE TABLE pairing_links (
    token_hash TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    session_id TEXT,
    expires_at BIGINT NOT NULL
);
CREATE INDEX pairing_links_by_device ON pairing_links (device_id, expires_at);

CREATE TABLE device_nonces (
    device_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (device_id, nonce)
);
CREATE INDEX device_nonces_by_time ON device_nonces (seen_at);

CREATE TABLE rate_windows (
    key TEXT PRIMARY KEY,
    started_at BIGINT NOT NULL,
    count BIGINT NOT NULL,
    window_millis BIGINT NOT NULL
);
CREATE INDEX rate_windows_by_start ON rate_windows (started_at);
