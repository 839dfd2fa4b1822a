-- People who can sign in to the demo app. Passwords are Argon2id PHC strings.
CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL
);

-- Push tokens. Secrets (activation secret, derived keys) are sealed under the server key.
CREATE TABLE tokens (
    id                    TEXT    PRIMARY KEY,
    user_id               BIGINT  NOT NULL REFERENCES users (id),
    name                  TEXT    NOT NULL,
    state                 TEXT    NOT NULL,
    activation_sealed     BYTEA,
    activation_expires_at BIGINT,
    pin_required          BIGINT  NOT NULL,
    max_tries             BIGINT  NOT NULL,
    failed_tries          BIGINT  NOT NULL DEFAULT 0,
    otp_type              TEXT    NOT NULL,
    algorithm             TEXT    NOT NULL,
    digits                BIGINT  NOT NULL,
    period                BIGINT  NOT NULL,
    last_used             BIGINT  NOT NULL DEFAULT -1,
    keys_sealed           BYTEA,
    device_name           TEXT,
    webpush_endpoint      TEXT,
    webpush_p256dh        TEXT,
    webpush_auth          TEXT,
    created_at            BIGINT  NOT NULL,
    enrolled_at           BIGINT
);
CREATE INDEX tokens_user ON tokens (user_id);

-- A sign-in waiting for its second factor, bound to the browser by an HttpOnly cookie.
CREATE TABLE logins (
    id           TEXT    PRIMARY KEY,
    user_id      BIGINT  NOT NULL REFERENCES users (id),
    app          TEXT    NOT NULL,
    origin       TEXT    NOT NULL,
    client_ip    TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    number       BIGINT,
    reason       TEXT,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL,
    completed_at BIGINT
);

-- Push login requests as sent to devices; each is answered at most once.
CREATE TABLE push_requests (
    id           TEXT    PRIMARY KEY,
    token_id     TEXT    NOT NULL REFERENCES tokens (id),
    login_id     TEXT    NOT NULL REFERENCES logins (id),
    body         TEXT    NOT NULL,
    right_number BIGINT,
    state        TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL,
    answered_at  BIGINT
);
CREATE INDEX push_requests_token ON push_requests (token_id, state);

-- "Deny → Yes, report": logins the person says they did not make.
CREATE TABLE reports (
    id         BIGSERIAL PRIMARY KEY,
    token_id   TEXT    NOT NULL,
    username   TEXT    NOT NULL,
    request_id TEXT    NOT NULL,
    app        TEXT    NOT NULL,
    origin     TEXT    NOT NULL,
    client_ip  TEXT    NOT NULL,
    place      TEXT,
    created_at BIGINT  NOT NULL
);

-- Every decision and security event.
CREATE TABLE audit (
    id        BIGSERIAL PRIMARY KEY,
    at        BIGINT  NOT NULL,
    event     TEXT    NOT NULL,
    username  TEXT,
    token_id  TEXT,
    client_ip TEXT,
    detail    TEXT
);

-- Signed-in sessions of the demo app.
CREATE TABLE sessions (
    id         TEXT    PRIMARY KEY,
    user_id    BIGINT  NOT NULL REFERENCES users (id),
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL
);
