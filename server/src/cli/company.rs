//! `atrium-server company`: companies and invitations made by the operator.

use anyhow::bail;
use clap::{Subcommand, ValueEnum};

use super::{find_user, open_store};
use crate::domain::text;

#[derive(Debug, Subcommand)]
pub enum CompanyCmd {
    /// Add a company owned by a user; prints its id.
    Add {
        name: String,
        /// Username of the owner.
        #[arg(long)]
        owner: String,
    },
    /// Invite a user into a company; they join when they accept it in the desktop app.
    /// Expires after 14 days.
    Invite {
        /// The company's id (printed by `company add`).
        company_id: i64,
        /// Username of the user to invite.
        username: String,
        /// The role they get on accepting.
        #[arg(long, value_enum, default_value = "member")]
        role: InviteRole,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum InviteRole {
    Member,
    Owner,
}

pub(super) async fn company(cmd: CompanyCmd, db: &crate::config::DbLocation) -> anyhow::Result<()> {
    let store = open_store(db).await?;
    match cmd {
        CompanyCmd::Add { name, owner } => {
            let name = text::company_name(&name)?;
            let owner = find_user(&store, &owner).await?;
            // The operator is not bound by the users' quotas.
            let id = store.create_company(&name, owner, None).await?;
            println!("{}", serde_json::json!({ "id": id, "name": name }));
        }
        CompanyCmd::Invite {
            company_id,
            username,
            role,
        } => {
            use crate::domain::invitation::{INVITATION_TTL, MAX_PENDING_PER_COMPANY};
            use crate::store::{Invited, NewInvitation, Role};
            // The operator may know who exists: check, to catch typos.
            find_user(&store, &username).await?;
            if store.company(company_id).await?.is_none() {
                bail!("no company with id {company_id}");
            }
            let role = match role {
                InviteRole::Member => Role::Member,
                InviteRole::Owner => Role::Owner,
            };
            let at = crate::domain::now();
            let invite = NewInvitation {
                company: company_id,
                username: username.clone(),
                role,
                invited_by: None,
                expires_at: at + INVITATION_TTL,
            };
            let outcome = store.invite(invite, at, MAX_PENDING_PER_COMPANY).await?;
            match outcome {
                Invited::Sent => println!(
                    "{}",
                    serde_json::json!({
                        "company_id": company_id,
                        "username": username,
                        "role": role.as_str(),
                        "expires_at": at + INVITATION_TTL,
                    })
                ),
                Invited::AlreadyMember => bail!("{username:?} is already a member"),
                Invited::TooMany => {
                    bail!("the company already has {MAX_PENDING_PER_COMPANY} pending invitations")
                }
            }
        }
    }
    Ok(())
}
