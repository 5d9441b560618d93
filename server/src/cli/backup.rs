//! `atrium-server backup` and `restore` (see [`crate::backup`]).

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::backup::{backup, restore, Progress};

/// Copies the database at `db_path`, with its key, into `to`; reports progress on standard
/// error about once a second, so a long copy shows it is moving.
pub(super) fn run_backup(db_path: &Path, to: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut last = started;
    let report = backup(db_path, to, |p: Progress| {
        if last.elapsed() >= Duration::from_secs(1) && p.copied < p.total {
            last = Instant::now();
            let percent = p.copied * 100 / p.total.max(1);
            let _ = writeln!(
                std::io::stderr(),
                "backup: {percent}% ({} of {} pages)",
                p.copied,
                p.total
            );
        }
    })?;
    println!(
        "backed up {} (schema version {}, {} pages, {} bytes) and its key to {} in {:.1} s",
        db_path.display(),
        report.schema_version,
        report.pages,
        report.bytes,
        to.display(),
        started.elapsed().as_secs_f64()
    );
    println!(
        "the backup holds the server's master key: keep it as private as the key file \
         (it is written readable by its owner only)"
    );
    Ok(())
}

/// Verifies the backup `from` and makes it the database at `db_path`, with its key.
pub(super) fn run_restore(db_path: &Path, from: &Path) -> anyhow::Result<()> {
    let report = restore(from, db_path)?;
    let counts: Vec<String> = report
        .counts
        .iter()
        .map(|(table, n)| format!("{n} {table}"))
        .collect();
    let taken = report
        .taken_at
        .map_or(String::new(), |t| format!(", taken at Unix time {t}"));
    println!(
        "verified {} (integrity check ok, schema version {}, key present{taken})",
        from.display(),
        report.schema_version
    );
    println!(
        "restored it to {} ({}) and its key to {}",
        db_path.display(),
        counts.join(", "),
        report.key_path.display()
    );
    if report.schema_version < crate::db::SCHEMA_VERSION as i64 {
        println!(
            "its schema is older than this server's ({}): the next start migrates it",
            crate::db::SCHEMA_VERSION
        );
    }
    for kept in &report.kept {
        println!("kept what was there before as {}", kept.display());
    }
    Ok(())
}
