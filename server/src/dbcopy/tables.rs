//! The tables `db copy` moves, parents before children, with what each column holds.

/// What a column holds, as PostgreSQL types it.
#[derive(Debug, Clone, Copy)]
pub(super) enum Kind {
    Int,
    Bool,
    Text,
    Bytes,
}

use Kind::*;

/// One table: its name, the column that is an identity (if any), and its columns.
pub(super) struct Table {
    pub name: &'static str,
    pub identity: Option<&'static str>,
    pub columns: &'static [(&'static str, Kind)],
}

/// Every table that holds data, parents before children. (`server_meta`, SQLite's own
/// bookkeeping, and the migration tables are not data.)
pub(super) const TABLES: &[Table] = &[
    Table {
        name: "users",
        identity: Some("id"),
        columns: &[
            ("id", Int),
            ("username", Text),
            ("email", Text),
            ("display_name", Text),
            ("password_hash", Text),
            ("joined_at", Int),
        ],
    },
    Table {
        name: "companies",
        identity: Some("id"),
        columns: &[("id", Int), ("name", Text), ("created_at", Int)],
    },
    Table {
        name: "memberships",
        identity: None,
        columns: &[("company_id", Int), ("user_id", Int), ("role", Text)],
    },
    Table {
        name: "apps",
        identity: Some("id"),
        columns: &[
            ("id", Int),
            ("client_id", Text),
            ("secret_digest", Bytes),
            ("name", Text),
            ("description", Text),
            ("developer_id", Int),
            ("redirect_uris", Text),
            ("iframe_url", Text),
            ("webhook_url", Text),
            ("scopes", Text),
            ("allow_code", Bool),
            ("allow_token", Bool),
            ("first_party", Bool),
            ("loopback_any_port", Bool),
            ("created_at", Int),
            ("deleted_at", Int),
            ("webhook_version", Int),
            ("application_type", Text),
            ("install_url", Text),
            ("id_token_signed_response_alg", Text),
            ("post_logout_redirect_uris", Text),
        ],
    },
    Table {
        name: "sessions",
        identity: None,
        columns: &[
            ("digest", Bytes),
            ("user_id", Int),
            ("csrf", Text),
            ("expires_at", Int),
        ],
    },
    Table {
        name: "installs",
        identity: Some("id"),
        columns: &[
            ("id", Int),
            ("app_id", Int),
            ("company_id", Int),
            ("installed_by", Int),
            ("scopes", Text),
            ("state", Text),
            ("created_at", Int),
            ("updated_at", Int),
        ],
    },
    Table {
        name: "token_families",
        identity: Some("id"),
        columns: &[
            ("id", Int),
            ("app_id", Int),
            ("user_id", Int),
            ("company_id", Int),
            ("scopes", Text),
            ("created_at", Int),
            ("revoked_at", Int),
            ("install_id", Int),
        ],
    },
    Table {
        name: "authorization_codes",
        identity: None,
        columns: &[
            ("digest", Bytes),
            ("app_id", Int),
            ("user_id", Int),
            ("company_id", Int),
            ("redirect_uri", Text),
            ("scopes", Text),
            ("code_challenge", Text),
            ("expires_at", Int),
            ("used_at", Int),
            ("family_id", Int),
            ("install_id", Int),
            ("replayed_at", Int),
            ("nonce", Text),
            ("auth_time", Int),
        ],
    },
    Table {
        name: "access_tokens",
        identity: None,
        columns: &[
            ("digest", Bytes),
            ("family_id", Int),
            ("issued_at", Int),
            ("expires_at", Int),
        ],
    },
    Table {
        name: "refresh_tokens",
        identity: None,
        columns: &[
            ("digest", Bytes),
            ("family_id", Int),
            ("issued_at", Int),
            ("expires_at", Int),
            ("rotated_at", Int),
        ],
    },
    Table {
        name: "refresh_retries",
        identity: None,
        columns: &[
            ("family_id", Int),
            ("old_digest", Bytes),
            ("salt", Bytes),
            ("access_expires_at", Int),
            ("until", Int),
        ],
    },
    Table {
        name: "outbox",
        identity: Some("id"),
        columns: &[
            ("id", Int),
            ("event_id", Text),
            ("app_id", Int),
            ("event_type", Text),
            ("url", Text),
            ("body", Text),
            ("attempts", Int),
            ("next_attempt_at", Int),
            ("delivered_at", Int),
            ("failed_at", Int),
            ("last_error", Text),
            ("created_at", Int),
        ],
    },
    Table {
        name: "login_forms_used",
        identity: None,
        columns: &[("digest", Bytes), ("expires_at", Int)],
    },
    Table {
        name: "invitations",
        identity: Some("id"),
        columns: &[
            ("id", Int),
            ("company_id", Int),
            ("username", Text),
            ("role", Text),
            ("invited_by", Int),
            ("created_at", Int),
            ("expires_at", Int),
        ],
    },
    Table {
        name: "signing_keys",
        identity: None,
        columns: &[
            ("version", Int),
            ("rsa_wrapped", Bytes),
            ("created_at", Int),
            ("retired_at", Int),
        ],
    },
    Table {
        name: "app_notifications",
        identity: Some("id"),
        columns: &[
            ("id", Int),
            ("install_id", Int),
            ("user_id", Int),
            ("title", Text),
            ("body", Text),
            ("path", Text),
            ("created_at", Int),
        ],
    },
    Table {
        name: "app_notification_reads",
        identity: None,
        columns: &[("notification_id", Int), ("user_id", Int)],
    },
    Table {
        name: "app_badges",
        identity: None,
        columns: &[
            ("install_id", Int),
            ("user_id", Int),
            ("count", Int),
            ("updated_at", Int),
        ],
    },
    // Copied like the rest: the keys are keyed hashes under the master key, which the copy
    // keeps, so a back-off under way goes on after the move (and the table is small).
    Table {
        name: "login_backoff",
        identity: None,
        columns: &[
            ("slot", Int),
            ("digest", Bytes),
            ("failures", Int),
            ("last_failure_ms", Int),
            ("forget_at", Int),
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::TABLES;

    /// A table or column added by a migration and forgotten here would be silently left behind
    /// by every copy: the list must be exactly the SQLite schema's data.
    #[test]
    fn the_list_is_every_table_and_column_of_the_sqlite_schema() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("atrium.db");
        crate::db::Db::open(&path).expect("migrated database");
        let c = rusqlite::Connection::open(&path).expect("database");
        let schema: Vec<(String, Vec<String>)> = (|| -> rusqlite::Result<_> {
            let mut tables = c.prepare(
                "SELECT name FROM sqlite_schema WHERE type = 'table'
                       AND name NOT IN ('server_meta', 'sqlite_sequence', 'sqlite_stat1')
                     ORDER BY name",
            )?;
            let names: Vec<String> = tables
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            names
                .into_iter()
                .map(|name| {
                    let mut cols =
                        c.prepare("SELECT name FROM pragma_table_info(?1) ORDER BY name")?;
                    let cols: Vec<String> = cols
                        .query_map([&name], |r| r.get(0))?
                        .collect::<Result<_, _>>()?;
                    Ok((name, cols))
                })
                .collect()
        })()
        .expect("schema");
        let mut listed: Vec<(String, Vec<String>)> = TABLES
            .iter()
            .map(|t| {
                let mut cols: Vec<String> = t.columns.iter().map(|(c, _)| c.to_string()).collect();
                cols.sort();
                (t.name.to_string(), cols)
            })
            .collect();
        listed.sort();
        assert_eq!(listed, schema);
    }
}
