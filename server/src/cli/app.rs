//! `atrium-server app`: apps (OAuth clients) registered by the operator.

use clap::{Subcommand, ValueEnum};

use super::{find_user, open_keys, open_store};
use crate::apps::{register, AppRegistration, OidcFields};
use crate::domain::redirect::ApplicationType;
use crate::jose::Alg;
use crate::webhooks::egress::Egress;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Method {
    Code,
    Token,
    Both,
}

#[derive(Debug, Subcommand)]
pub enum AppCmd {
    /// Register an app; prints {"client_id", "client_secret", "webhook_secret"} as JSON
    /// (no client secret for --public).
    Add {
        /// Username of the developer who owns the app.
        #[arg(long)]
        owner: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        /// Redirect URI (repeatable): https; http on 127.0.0.1 or [::1]; for native apps, a
        /// reverse-domain private-use scheme (com.example.app:/callback).
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        /// The app's page embedded in the dashboard.
        #[arg(long)]
        iframe_url: Option<String>,
        /// Where install notifications go: https on a public address (http on loopback and
        /// private addresses only with --allow-private-webhooks).
        #[arg(long)]
        webhook_url: Option<String>,
        /// Where the dashboard sends a user who installs the app; the app then starts the
        /// authorization request itself. Required for --public apps using CODE.
        #[arg(long)]
        install_url: Option<String>,
        /// `web` (a server or browser app) or `native` (an app on the user's device, RFC 8252).
        #[arg(long, value_enum, default_value = "web")]
        application_type: AppTypeArg,
        /// Scopes the app may ask for, space-separated.
        #[arg(long, default_value = "profile")]
        scopes: String,
        #[arg(long, value_enum, default_value = "code")]
        method: Method,
        /// A public client (no secret; PKCE required).
        #[arg(long)]
        public: bool,
        /// How the app's OpenID Connect ID tokens are signed
        /// (`id_token_signed_response_alg`).
        #[arg(long, value_enum, default_value = "RS256")]
        id_token_alg: IdTokenAlgArg,
        /// Where OpenID Connect logout (`/oauth2/logout`) may send a user back to, by the rules
        /// of redirect URIs (repeat for several).
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum IdTokenAlgArg {
    #[value(name = "RS256")]
    Rs256,
    #[value(name = "EdDSA")]
    EdDsa,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AppTypeArg {
    Web,
    Native,
}

pub(super) async fn app(
    cmd: AppCmd,
    db: &crate::config::DbLocation,
    egress: Egress,
) -> anyhow::Result<()> {
    let AppCmd::Add {
        owner,
        name,
        description,
        redirect_uris,
        iframe_url,
        webhook_url,
        install_url,
        application_type,
        scopes,
        method,
        public,
        id_token_alg,
        post_logout_redirect_uris,
    } = cmd;
    let store = open_store(db).await?;
    let developer = find_user(&store, &owner).await?;
    let (code, token) = match method {
        Method::Code => (true, false),
        Method::Token => (false, true),
        Method::Both => (true, true),
    };
    let reg = register(
        developer,
        AppRegistration {
            name,
            description,
            redirect_uris,
            iframe_url,
            webhook_url,
            install_url,
            scopes,
            allow_code: code,
            allow_token: token,
            public,
            application_type: match application_type {
                AppTypeArg::Web => ApplicationType::Web,
                AppTypeArg::Native => ApplicationType::Native,
            },
        },
        egress,
    )?;
    let alg = match id_token_alg {
        IdTokenAlgArg::Rs256 => Alg::Rs256,
        IdTokenAlgArg::EdDsa => Alg::EdDsa,
    };
    let oidc = OidcFields {
        id_token_alg: Some(alg.as_str().into()),
        post_logout_redirect_uris: Some(post_logout_redirect_uris),
    }
    .validate(reg.app.application_type)?;
    let client_id = reg.app.client_id.clone();
    store.create_app(reg.app, None).await?;
    if alg != Alg::Rs256 {
        store.set_id_token_alg(&client_id, alg.as_str()).await?;
    }
    let post_logout = oidc.post_logout_redirect_uris.unwrap_or_default();
    if !post_logout.is_empty() {
        store
            .set_post_logout_redirect_uris(&client_id, post_logout.clone())
            .await?;
    }
    let mut out = serde_json::json!({
        "client_id": client_id,
        "id_token_signed_response_alg": alg.as_str(),
        "post_logout_redirect_uris": post_logout,
    });
    if let Some(s) = &reg.client_secret {
        out["client_secret"] = s.expose().into();
    }
    out["webhook_secret"] = open_keys(db)?.webhook_secret(&client_id, 1).into();
    println!("{out}");
    Ok(())
}
