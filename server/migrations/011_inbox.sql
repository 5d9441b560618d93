-- The inbox: notifications that installed apps post to their users, with each user's read
-- state, and the badge counts apps set. See src/store/inbox.rs.

-- One notification of an install, to one member of its company (`user_id`) or to every member
-- (`user_id` NULL). Its id orders the inbox and is the event id of the dashboard's stream.
CREATE TABLE app_notifications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    install_id INTEGER NOT NULL REFERENCES installs(id) ON DELETE CASCADE,
    user_id    INTEGER REFERENCES users(id) ON DELETE CASCADE,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    path       TEXT,
    created_at INTEGER NOT NULL
) STRICT;
-- The rate limit counts an install's recent notifications; the inbox reads them by install.
CREATE INDEX app_notifications_by_install ON app_notifications(install_id, created_at);
CREATE INDEX app_notifications_by_time ON app_notifications(created_at);

-- Who has read which notification (a notification to a whole company is read per member).
CREATE TABLE app_notification_reads (
    notification_id INTEGER NOT NULL REFERENCES app_notifications(id) ON DELETE CASCADE,
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (notification_id, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX app_notification_reads_by_user ON app_notification_reads(user_id);

-- An install's badge: for one member (`user_id`) or for the whole company (`user_id` 0). A
-- member's own badge, when set, wins over the company-wide one.
CREATE TABLE app_badges (
    install_id INTEGER NOT NULL REFERENCES installs(id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,
    count      INTEGER NOT NULL CHECK (count >= 0),
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (install_id, user_id)
) STRICT, WITHOUT ROWID;
