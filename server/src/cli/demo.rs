//! `atrium-server demo`: the local demo's user, company and two sample apps.
//!
//! App2 also signs its users in with OpenID Connect, so it may ask for `openid` (its sign-in
//! answer comes to the same `/app2/callback`: one redirect URI, which the dashboard's installs
//! may leave out). A demo database seeded before that is brought up to date.

use atrium_proto::ResponseType;

use super::{open_keys, open_store};
use crate::apps::{register, AppRegistration};
use crate::domain::password;
use crate::domain::scope::ScopeSet;
use crate::domain::secret::{Kind, Secret};
use crate::store::{AppUpdate, NewUser};
use crate::webhooks::egress::Egress;

/// The demo user's password (demo data for a loopback demo, printed by `demo`).
pub const DEMO_PASSWORD: &str = "atrium-demo";

pub(super) async fn demo(
    sample_app_url: &str,
    db: &crate::config::DbLocation,
    egress: Egress,
) -> anyhow::Result<()> {
    let base = sample_app_url.trim_end_matches('/');
    let store = open_store(db).await?;
    let keys = open_keys(db)?;
    let user_id = match store.user_by_username("demo").await? {
        Some((u, _)) => u.id,
        None => {
            store
                .create_user(NewUser {
                    username: "demo".into(),
                    email: Some("demo@atrium.invalid".into()),
                    display_name: "Demo User".into(),
                    password_hash: password::hash(DEMO_PASSWORD),
                })
                .await?
        }
    };
    let memberships = store.memberships(user_id).await?;
    let company_id = match memberships
        .iter()
        .find(|m| m.company.name == "Demo Company")
    {
        Some(m) => m.company.id,
        None => store.create_company("Demo Company", user_id, None).await?,
    };
    let mut apps = serde_json::Map::new();
    for (label, method, public) in [
        ("App1", ResponseType::Token, true),
        ("App2", ResponseType::Code, false),
    ] {
        let client_id = format!("demo-{}", label.to_lowercase());
        let path = label.to_lowercase();
        let secret = (!public).then(|| Secret::generate(Kind::ClientSecret));
        let redirect_uris = vec![format!("{base}/{path}/callback")];
        let mut scopes = "profile email company company.members notifications".to_string();
        if method == ResponseType::Code {
            scopes.insert_str(0, "openid ");
        }
        if store.client(&client_id).await?.is_some() {
            store
                .set_client_secret(&client_id, secret.as_ref().map(Secret::digest))
                .await?;
            store
                .update_app(
                    &client_id,
                    AppUpdate {
                        redirect_uris: Some(redirect_uris),
                        scopes: Some(ScopeSet::parse(&scopes)?),
                        ..AppUpdate::default()
                    },
                )
                .await?;
        } else {
            let mut reg = register(
                user_id,
                AppRegistration {
                    name: label.into(),
                    description: format!(
                        "The sample app's {label}, using the {} method",
                        method.as_str().to_uppercase()
                    ),
                    redirect_uris,
                    iframe_url: Some(format!("{base}/{path}/")),
                    webhook_url: Some(format!("{base}/webhook")),
                    scopes,
                    allow_code: method == ResponseType::Code,
                    allow_token: method == ResponseType::Token,
                    public,
                    ..AppRegistration::default()
                },
                egress,
            )?;
            reg.app.client_id = client_id.clone();
            reg.app.secret_digest = secret.as_ref().map(Secret::digest);
            store.create_app(reg.app, None).await?;
        }
        let version = store
            .client(&client_id)
            .await?
            .map_or(1, |c| c.webhook_version);
        let mut entry = serde_json::json!({
            "client_id": client_id,
            "method": method,
            "webhook_secret": keys.webhook_secret(&client_id, version),
        });
        if let Some(s) = &secret {
            entry["client_secret"] = s.expose().into();
        }
        apps.insert(label.to_string(), entry);
    }
    println!(
        "{}",
        serde_json::json!({
            "username": "demo",
            "password": DEMO_PASSWORD,
            "company_id": company_id,
            "apps": apps,
        })
    );
    Ok(())
}
