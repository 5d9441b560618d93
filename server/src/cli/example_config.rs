//! `atrium-server example-config`: a configuration file that lists every setting, commented
//! out, above the help text of the flag it mirrors.
//!
//! The comments come from the same clap definitions as `atrium-server serve --help`, so the
//! file can't drift from the real settings; `tests/cli.rs` checks that every key of
//! [`FileConfig`](crate::config::FileConfig) is listed and that the file parses with every line
//! uncommented. The server package ships its output as `/etc/atrium/server.toml`.

use std::fmt::Write as _;
use std::path::Path;

use clap::CommandFactory;

use super::Cli;

/// Each key of the configuration file, the id of the argument it mirrors (a field of [`Cli`]
/// or of [`super::ServeArgs`]), and a sample value in TOML for keys whose help has no plain
/// default (`None`: the `[default: …]` of the help is the sample).
const KEYS: &[(&str, &str, Option<&str>)] = &[
    ("addr", "addr", Some("\"127.0.0.1:8000\"")),
    ("db", "db", Some("\"/var/lib/atrium/atrium.db\"")),
    (
        "public_url",
        "public_url",
        Some("\"https://atrium.example.com\""),
    ),
    ("access_token_ttl_secs", "access_token_ttl", None),
    ("refresh_token_ttl_secs", "refresh_token_ttl", None),
    ("implicit_token_ttl_secs", "implicit_token_ttl", None),
    (
        "refresh_reuse_interval_secs",
        "refresh_reuse_interval",
        None,
    ),
    ("header_read_timeout_secs", "header_read_timeout", None),
    ("idle_timeout_secs", "idle_timeout", None),
    ("body_read_timeout_secs", "body_read_timeout", None),
    ("max_connections", "max_connections", None),
    ("login_concurrency", "login_concurrency", Some("1")),
    ("login_queue_timeout_secs", "login_queue_timeout", None),
    ("login_user_failures", "login_user_failures", None),
    ("login_ip_failures", "login_ip_failures", None),
    ("login_max_backoff_secs", "login_max_backoff", None),
    ("login_throttle_entries", "login_throttle_entries", None),
    ("max_apps_per_user", "max_apps_per_user", None),
    ("max_companies_per_user", "max_companies_per_user", None),
    (
        "max_notifications_per_install_hour",
        "max_notifications_per_install_hour",
        None,
    ),
    (
        "notification_retention_secs",
        "notification_retention",
        None,
    ),
    ("expired_retention_secs", "expired_retention", None),
    ("delivered_retention_secs", "delivered_retention", None),
    ("prune_interval_secs", "prune_interval", None),
    (
        "allow_private_webhooks",
        "allow_private_webhooks",
        Some("false"),
    ),
    ("webhook_max_in_flight", "webhook_max_in_flight", None),
    (
        "webhook_max_per_destination",
        "webhook_max_per_destination",
        None,
    ),
    ("webhook_timeout_secs", "webhook_timeout", None),
    ("webhook_lease_secs", "webhook_lease", None),
    ("db_pool_size", "db_pool_size", None),
    (
        "key_file",
        "key_file",
        Some("\"/var/lib/atrium/atrium.key\""),
    ),
    ("tls_cert", "tls_cert", Some("\"/etc/atrium/tls/cert.pem\"")),
    ("tls_key", "tls_key", Some("\"/etc/atrium/tls/key.pem\"")),
    ("metrics_addr", "metrics_addr", Some("\"127.0.0.1:9100\"")),
    ("log_format", "log_format", Some("\"text\"")),
];

const WIDTH: usize = 88;

/// The file's text. With `db`, the `db` key is set (uncommented) to it.
pub fn render(db: Option<&Path>) -> String {
    let cli = Cli::command();
    let serve = cli
        .find_subcommand("serve")
        .expect("the serve subcommand exists");
    let mut out = String::from(
        "# Atrium server configuration (TOML), read by `atrium-server --config FILE`.\n\
         # Every key is optional: a key left commented out keeps the default shown. A flag or an\n\
         # ATRIUM_* environment variable wins over this file. Written by\n\
         # `atrium-server example-config`, from the help of `atrium-server serve --help`.\n",
    );
    for &(key, id, sample) in KEYS {
        let arg = serve
            .get_arguments()
            .chain(cli.get_arguments())
            .find(|a| a.get_id() == id)
            .unwrap_or_else(|| panic!("config key {key} mirrors no argument {id}"));
        let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
        out.push('\n');
        wrap(&mut out, &help);
        let mut source = format!("--{}", arg.get_long().unwrap_or(id));
        if let Some(env) = arg.get_env() {
            let _ = write!(source, ", or ${}", env.to_string_lossy());
        }
        let _ = writeln!(out, "# (flag {source})");
        match (key, db) {
            ("db", Some(path)) => {
                let value = toml::Value::String(path.display().to_string());
                let _ = writeln!(out, "db = {value}");
            }
            _ => {
                let value = sample
                    .map(str::to_owned)
                    .unwrap_or_else(|| default_in(&help, key));
                let _ = writeln!(out, "#{key} = {value}");
            }
        }
    }
    out
}

/// The value of the `[default: VALUE]` (or `[default: VALUE, note]`) that ends a help text.
fn default_in(help: &str, key: &str) -> String {
    help.rsplit_once("[default: ")
        .and_then(|(_, rest)| rest.split([']', ',']).next())
        .map(|v| v.trim().to_owned())
        .unwrap_or_else(|| panic!("the help of config key {key} names no default"))
}

/// Appends `text` as `# ` comment lines of at most [`WIDTH`] columns.
fn wrap(out: &mut String, text: &str) {
    let mut line = String::from("#");
    for word in text.split_whitespace() {
        if line.len() + 1 + word.len() > WIDTH && line.len() > 1 {
            out.push_str(&line);
            out.push('\n');
            line = String::from("#");
        }
        line.push(' ');
        line.push_str(word);
    }
    if line.len() > 1 {
        out.push_str(&line);
        out.push('\n');
    }
}
