//! The developer pane's state and the actions that change it (a `Reducible`, like the
//! dashboard's [`crate::model`]). [`crate::dev_actions`] calls the shell and dispatches these.

use std::rc::Rc;

use atrium_proto::dashboard::{
    AppCreated, AppPatch, AppView, DeliveryView, NewApp, Page, SecretRotated,
};
use atrium_proto::{ApplicationType, OAuthMethod};
use yew::Reducible;

/// Secrets shown once, right after they were made.
#[derive(Debug, Clone, PartialEq)]
pub struct Revealed {
    pub client_id: String,
    pub client_secret: Option<String>,
    pub webhook_secret: Option<String>,
}

/// The registration form as typed so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    /// Every field but the scopes, the method and the application type, which are kept typed
    /// below.
    pub app: NewApp,
    pub scopes: Vec<String>,
    pub method: OAuthMethod,
    pub application_type: ApplicationType,
}

impl Default for Draft {
    fn default() -> Self {
        Draft {
            app: NewApp::default(),
            scopes: vec!["profile".to_string()],
            method: OAuthMethod::Code,
            application_type: ApplicationType::Web,
        }
    }
}

impl Draft {
    /// The app to register.
    pub fn to_new_app(&self) -> NewApp {
        NewApp {
            scopes: self.scopes.join(" "),
            method: self.method.as_str().into(),
            application_type: Some(self.application_type.as_str().into()),
            ..self.app.clone()
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DevModel {
    /// The pages of the developer's apps loaded so far, and where the next one starts.
    pub apps: Page<AppView>,
    pub error: Option<String>,
    pub revealed: Option<Revealed>,
    /// The app whose undelivered notifications are shown, and them.
    pub deliveries: Option<(String, Vec<DeliveryView>)>,
    /// The app being edited, with its draft.
    pub editing: Option<(String, AppPatch)>,
    pub draft: Draft,
}

pub enum DevAction {
    /// The first page of apps (after any change).
    Apps(Page<AppView>),
    /// A further page.
    MoreApps(Page<AppView>),
    Failed(String),
    Typed(Draft),
    /// Registered: its secrets are shown once and the form is emptied (its scopes kept).
    Registered(AppCreated),
    Rotated(SecretRotated),
    HideSecrets,
    Deliveries(String, Vec<DeliveryView>),
    CloseDeliveries,
    /// Start editing this app.
    Edit(AppView),
    /// The edit was saved or abandoned.
    EditDone,
}

/// The draft of an edit: the app's current name, description, URLs and OpenID fields.
fn patch_of(a: &AppView) -> AppPatch {
    AppPatch {
        name: Some(a.name.clone()),
        description: Some(a.description.clone()),
        redirect_uris: Some(a.redirect_uris.clone()),
        iframe_url: Some(a.iframe_url.clone().unwrap_or_default()),
        webhook_url: Some(a.webhook_url.clone().unwrap_or_default()),
        install_url: Some(a.install_url.clone().unwrap_or_default()),
        id_token_signed_response_alg: Some(a.id_token_signed_response_alg.clone()),
        post_logout_redirect_uris: Some(a.post_logout_redirect_uris.clone()),
        ..AppPatch::default()
    }
}

impl Reducible for DevModel {
    type Action = DevAction;

    fn reduce(self: Rc<Self>, action: DevAction) -> Rc<Self> {
        let mut m = (*self).clone();
        match action {
            DevAction::Apps(page) => m.apps = page,
            DevAction::MoreApps(page) => {
                m.apps.items.extend(page.items);
                m.apps.next_cursor = page.next_cursor;
            }
            DevAction::Failed(message) => m.error = Some(message),
            DevAction::Typed(draft) => m.draft = draft,
            DevAction::Registered(created) => {
                m.error = None;
                m.revealed = Some(Revealed {
                    client_id: created.app.client_id,
                    client_secret: created.client_secret,
                    webhook_secret: Some(created.webhook_secret),
                });
                m.draft.app = NewApp::default();
            }
            DevAction::Rotated(r) => {
                m.revealed = Some(Revealed {
                    client_id: r.client_id,
                    client_secret: Some(r.client_secret),
                    webhook_secret: None,
                })
            }
            DevAction::HideSecrets => m.revealed = None,
            DevAction::Deliveries(id, list) => m.deliveries = Some((id, list)),
            DevAction::CloseDeliveries => m.deliveries = None,
            DevAction::Edit(app) => m.editing = Some((app.client_id.clone(), patch_of(&app))),
            DevAction::EditDone => m.editing = None,
        }
        Rc::new(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(id: &str) -> AppView {
        AppView {
            client_id: id.into(),
            name: format!("App {id}"),
            description: String::new(),
            redirect_uris: vec!["https://a.example/cb".into()],
            iframe_url: None,
            webhook_url: Some("https://a.example/hook".into()),
            scopes: "profile".into(),
            method: OAuthMethod::Code,
            public: false,
            application_type: ApplicationType::Web,
            install_url: None,
            id_token_signed_response_alg: "RS256".into(),
            post_logout_redirect_uris: Vec::new(),
            created_at: 0,
        }
    }

    fn page(ids: &[&str], next: Option<&str>) -> Page<AppView> {
        Page {
            items: ids.iter().map(|i| app(i)).collect(),
            next_cursor: next.map(str::to_string),
        }
    }

    fn run(m: DevModel, actions: Vec<DevAction>) -> DevModel {
        let mut m = Rc::new(m);
        for a in actions {
            m = m.reduce(a);
        }
        (*m).clone()
    }

    #[test]
    fn further_pages_are_appended_and_a_reload_starts_over() {
        let m = run(
            DevModel::default(),
            vec![
                DevAction::Apps(page(&["a", "b"], Some("b"))),
                DevAction::MoreApps(page(&["c"], None)),
            ],
        );
        let ids: Vec<&str> = m.apps.items.iter().map(|a| a.client_id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        assert_eq!(m.apps.next_cursor, None);
        let m = run(m, vec![DevAction::Apps(page(&["z"], Some("z")))]);
        assert_eq!(m.apps.items.len(), 1);
        assert_eq!(m.apps.next_cursor.as_deref(), Some("z"));
    }

    #[test]
    fn registering_shows_both_secrets_once_and_empties_the_form_but_its_scopes() {
        let mut draft = Draft::default();
        draft.app.name = "Notes".into();
        draft.scopes.push("email".into());
        draft.method = OAuthMethod::Both;
        draft.application_type = ApplicationType::Native;
        assert_eq!(draft.to_new_app().method, "both");
        assert_eq!(
            draft.to_new_app().application_type.as_deref(),
            Some("native")
        );
        assert_eq!(draft.to_new_app().scopes, "profile email");
        let created = AppCreated {
            app: app("new"),
            client_secret: Some("cs".into()),
            webhook_secret: "ws".into(),
        };
        let m = run(
            DevModel::default(),
            vec![
                DevAction::Failed("earlier".into()),
                DevAction::Typed(draft),
                DevAction::Registered(created),
            ],
        );
        assert_eq!(m.error, None);
        let shown = m.revealed.clone().unwrap();
        assert_eq!(shown.client_id, "new");
        assert_eq!(shown.client_secret.as_deref(), Some("cs"));
        assert_eq!(shown.webhook_secret.as_deref(), Some("ws"));
        assert_eq!(m.draft.app, NewApp::default());
        assert_eq!(m.draft.scopes, ["profile", "email"]);
        assert!(run(m, vec![DevAction::HideSecrets]).revealed.is_none());
    }

    #[test]
    fn a_rotated_secret_is_shown_without_a_webhook_secret() {
        let rotated = SecretRotated {
            client_id: "a".into(),
            client_secret: "new".into(),
            previous_secret_revoked: true,
        };
        let m = run(DevModel::default(), vec![DevAction::Rotated(rotated)]);
        let shown = m.revealed.unwrap();
        assert_eq!(shown.client_secret.as_deref(), Some("new"));
        assert_eq!(shown.webhook_secret, None);
    }

    #[test]
    fn editing_drafts_the_apps_current_values_and_empty_urls_as_empty() {
        let m = run(DevModel::default(), vec![DevAction::Edit(app("a"))]);
        let (id, patch) = m.editing.clone().unwrap();
        assert_eq!(id, "a");
        assert_eq!(patch.name.as_deref(), Some("App a"));
        assert_eq!(patch.iframe_url.as_deref(), Some(""));
        assert_eq!(patch.webhook_url.as_deref(), Some("https://a.example/hook"));
        assert_eq!(patch.method, None);
        assert!(run(m, vec![DevAction::EditDone]).editing.is_none());
    }

    #[test]
    fn deliveries_are_shown_for_one_app_until_closed() {
        let m = run(
            DevModel::default(),
            vec![DevAction::Deliveries("a".into(), Vec::new())],
        );
        assert_eq!(m.deliveries.as_ref().map(|d| d.0.as_str()), Some("a"));
        assert!(run(m, vec![DevAction::CloseDeliveries])
            .deliveries
            .is_none());
    }
}
