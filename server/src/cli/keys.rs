//! `atrium-server keys`: the signing keys of ID tokens and launch tokens ([`crate::jose`]).

use anyhow::Context;
use clap::Subcommand;

use super::{open_keys, open_store};

#[derive(Debug, Subcommand)]
pub enum KeysCmd {
    /// Add a new signing-key version (RS256 and EdDSA, with new kids).
    ///
    /// The server signs with it from its next start. The previous keys stay in the JWKS until
    /// everything they signed has expired (an hour and a few minutes), so relying parties keep
    /// verifying tokens issued before the rotation.
    Rotate,
}

pub(super) async fn keys(cmd: KeysCmd, db: &crate::config::DbLocation) -> anyhow::Result<()> {
    let KeysCmd::Rotate = cmd;
    let version = rotate(db).await?;
    println!(
        "signing-key version {version} added; the server signs with it from its next start, and keeps publishing the previous keys for {} seconds",
        crate::jose::retention()
    );
    Ok(())
}

/// Adds a signing-key version to the database at `db`; returns it.
pub async fn rotate(db: &crate::config::DbLocation) -> anyhow::Result<i64> {
    let store = open_store(db).await?;
    let keys = open_keys(db)?;
    let now = crate::domain::now();
    // A database that never served has no first version yet: make it, then rotate past it.
    crate::jose::load_or_init(store.as_ref(), keys.master(), now)
        .await
        .context("cannot read the signing keys")?;
    let version = crate::jose::rotate(store.as_ref(), keys.master(), now)
        .await
        .context("cannot add a signing key")?;
    Ok(version)
}
