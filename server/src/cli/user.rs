//! `atrium-server user`: accounts made by the operator.

use std::io::Read;

use anyhow::{bail, Context};
use clap::Subcommand;

use super::open_store;
use crate::domain::password;
use crate::domain::text;
use crate::store::{NewUser, StoreError};

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Add a user; the password is read from standard input.
    Add {
        /// Username (letters, digits, '.', '_' and '-').
        name: String,
        /// Email address.
        #[arg(long)]
        email: Option<String>,
        /// Display name [default: the username]
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from standard input (required: passwords never go in argv).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

pub(super) async fn user(cmd: UserCmd, db: &crate::config::DbLocation) -> anyhow::Result<()> {
    let UserCmd::Add {
        name,
        email,
        display_name,
        password_stdin: _,
    } = cmd;
    let name = text::username(&name).map_err(|e| {
        anyhow::anyhow!(
            "invalid username {name:?}: {e} (use 1-64 letters, digits, '.', '_' or '-')"
        )
    })?;
    let email = email.as_deref().map(text::email).transpose()?;
    let display_name = text::display_name(display_name.as_deref().unwrap_or(&name))?;
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .context("cannot read the password from standard input")?;
    let pw = input.trim_end_matches(['\r', '\n']);
    if pw.len() < 8 {
        bail!("the password must have at least 8 characters");
    }
    let store = open_store(db).await?;
    let hash = password::hash(pw);
    let id = store
        .create_user(NewUser {
            display_name,
            username: name.clone(),
            email,
            password_hash: hash,
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => anyhow::anyhow!("user {name:?} already exists"),
            e => e.into(),
        })?;
    println!("{}", serde_json::json!({ "id": id, "username": name }));
    Ok(())
}
