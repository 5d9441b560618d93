//! `atrium-server db copy`: a SQLite deployment moved to PostgreSQL (see [`crate::dbcopy`]).

use std::io::Write;
use std::path::PathBuf;

use clap::Subcommand;

use crate::config::DbLocation;

#[derive(Debug, Subcommand)]
pub enum DbCmd {
    /// Copy a SQLite deployment into an empty PostgreSQL database, to move to PostgreSQL.
    ///
    /// Every user, session, company, invitation, app (with its secret digest), authorization
    /// code, grant, access and refresh token, install, outbox event (pending or delivered) and
    /// signing-key version is copied with the same ids and values, so issued tokens, session
    /// cookies, `sub` claims and ID tokens stay valid and pending webhooks are still sent.
    ///
    /// Stop the SQLite server first: the copy reads one consistent snapshot, so a running
    /// server cannot corrupt it, but whatever it writes after the snapshot is lost. Back up
    /// the SQLite database (`atrium-server --db PATH.db backup --to FILE`) before moving.
    ///
    /// The PostgreSQL database must be empty: this command creates the schema itself (as
    /// `migrate` would) and refuses a database that already holds data. It writes in one
    /// transaction: on any error (including a row count that differs from SQLite's, or
    /// signing keys that do not open) nothing is written.
    ///
    /// The key file: signing keys and webhook secrets derive from the key file beside the
    /// SQLite database (PATH.key). The PostgreSQL deployment must use the SAME file: it reads
    /// --key-file, else atrium.key in $XDG_DATA_HOME/atrium/ (else ~/.local/share/atrium/). If that file is
    /// missing, this command copies the key there (mode 0600); if it holds another key, the
    /// command refuses. Every replica needs a copy of it. Progress goes to stderr, one line
    /// per table.
    Copy {
        /// The SQLite database to copy (its key file, PATH.key, must be beside it).
        #[arg(long, value_name = "PATH.db")]
        from: PathBuf,
        /// The empty PostgreSQL database:
        /// postgres://USER:PASSWORD@HOST:PORT/DATABASE (add
        /// ?options=-csearch_path%3DSCHEMA for another schema than the user's default).
        #[arg(long, value_name = "URL")]
        to: String,
    },
}

/// `key_file`: the PostgreSQL deployment's `--key-file`, if it has one.
pub(super) async fn db(cmd: DbCmd, key_file: Option<PathBuf>) -> anyhow::Result<()> {
    match cmd {
        DbCmd::Copy { from, to } => {
            let target = DbLocation::from_arg(PathBuf::from(&to)).with_key_file(key_file)?;
            if target.postgres_url().is_none() {
                anyhow::bail!("--to must be a postgres:// URL, not a file");
            }
            let key_path = target.key_path();
            let started = std::time::Instant::now();
            let report = crate::dbcopy::copy(&from, &to, &key_path, |table, rows| {
                let _ = writeln!(std::io::stderr(), "db copy: {table}: copied {rows} rows");
            })
            .await?;
            let total: i64 = report.counts.iter().map(|(_, n)| n).sum();
            println!(
                "copied {} ({total} rows in {} tables) into {target} in {:.1} s; row counts \
                 checked, signing keys open with the key file",
                from.display(),
                report.counts.len(),
                started.elapsed().as_secs_f64()
            );
            if report.key_written {
                println!(
                    "copied the key file to {} (mode 0600)",
                    report.key_path.display()
                );
            }
            println!(
                "start the server with --db {target}; it reads the key file {} (every \
                 replica needs a copy of that same file)",
                report.key_path.display()
            );
            Ok(())
        }
    }
}
