//! The tokens the apps hold, in memory (a real app would keep them, encrypted, in its
//! database). A token is filed under its app, its user and — when the token was granted the
//! `company` scope, so the app could ask — its company. Launches find them again from the
//! launch token's company, else its username.

use std::sync::Mutex;

use crate::atrium::Profile;
use crate::config::{AppId, Secret};

/// One grant's tokens and what the app read with them.
#[derive(Debug, Clone)]
pub struct StoredToken {
    pub app: AppId,
    pub username: String,
    pub company_id: Option<i64>,
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    /// Unix seconds, when the server said.
    pub expires_at: Option<i64>,
    pub scope: String,
    pub profile: Profile,
    pub obtained_at: i64,
}

/// Every token held, behind a lock (never held across an await).
#[derive(Default)]
pub struct TokenStore {
    tokens: Mutex<Vec<StoredToken>>,
}

impl TokenStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<StoredToken>> {
        // A panic while holding the lock leaves a consistent Vec: keep serving.
        self.tokens.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps `token`, replacing an older one of the same app, user and company.
    pub fn save(&self, token: StoredToken) {
        let mut tokens = self.lock();
        tokens.retain(|t| {
            !(t.app == token.app
                && t.username == token.username
                && t.company_id == token.company_id)
        });
        tokens.push(token);
    }

    /// The token to use for a launch of `app` by `username` in `company`.
    pub fn find(&self, app: AppId, company: i64, username: &str) -> Option<StoredToken> {
        let tokens = self.lock();
        let newest = |f: &dyn Fn(&StoredToken) -> bool| {
            tokens
                .iter()
                .filter(|t| t.app == app && f(t))
                .max_by_key(|t| t.obtained_at)
                .cloned()
        };
        newest(&|t| t.company_id == Some(company))
            .or_else(|| newest(&|t| t.company_id.is_none() && t.username == username))
    }

    /// The newest token of `app` granted `scope`.
    pub fn newest_with_scope(&self, app: AppId, scope: &str) -> Option<StoredToken> {
        self.lock()
            .iter()
            .filter(|t| t.app == app && t.scope.split_whitespace().any(|s| s == scope))
            .max_by_key(|t| t.obtained_at)
            .cloned()
    }

    /// Forgets one token (it was refused by the server).
    pub fn forget(&self, app: AppId, username: &str, company_id: Option<i64>) {
        self.lock()
            .retain(|t| !(t.app == app && t.username == username && t.company_id == company_id));
    }

    /// Forgets every token of `app` in `company` (it was uninstalled there).
    pub fn forget_company(&self, app: AppId, company: i64) -> usize {
        let mut tokens = self.lock();
        let before = tokens.len();
        tokens.retain(|t| !(t.app == app && t.company_id == Some(company)));
        before - tokens.len()
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::atrium::Company;

    fn token(app: AppId, user: &str, company: Option<i64>, at: i64) -> StoredToken {
        StoredToken {
            app,
            username: user.into(),
            company_id: company,
            access_token: Secret::new(format!("atr_at_{user}_{at}")),
            refresh_token: None,
            expires_at: None,
            scope: "profile".into(),
            profile: Profile {
                username: user.into(),
                display_name: user.into(),
                email: None,
                date_joined: None,
                company: company.map(|id| Company {
                    id,
                    name: format!("Company {id}"),
                }),
            },
            obtained_at: at,
        }
    }

    #[test]
    fn a_launch_finds_the_token_of_its_company_first_then_of_its_user() {
        let store = TokenStore::default();
        store.save(token(AppId::App2, "demo", None, 1));
        store.save(token(AppId::App2, "alice", Some(7), 2));
        let found = store.find(AppId::App2, 7, "demo").unwrap();
        assert_eq!(found.username, "alice");
        let found = store.find(AppId::App2, 8, "demo").unwrap();
        assert_eq!(found.company_id, None);
        assert!(store.find(AppId::App1, 7, "demo").is_none());
        assert!(store.find(AppId::App2, 8, "bob").is_none());
    }

    #[test]
    fn a_new_token_replaces_the_old_one_of_the_same_grant() {
        let store = TokenStore::default();
        store.save(token(AppId::App1, "demo", Some(1), 1));
        store.save(token(AppId::App1, "demo", Some(1), 2));
        assert_eq!(store.len(), 1);
        assert_eq!(store.find(AppId::App1, 1, "demo").unwrap().obtained_at, 2);
    }

    #[test]
    fn uninstalling_forgets_the_companys_tokens_only() {
        let store = TokenStore::default();
        store.save(token(AppId::App1, "demo", Some(1), 1));
        store.save(token(AppId::App1, "demo", Some(2), 1));
        store.save(token(AppId::App2, "demo", Some(1), 1));
        assert_eq!(store.forget_company(AppId::App1, 1), 1);
        assert_eq!(store.len(), 2);
        store.forget(AppId::App1, "demo", Some(2));
        assert_eq!(store.len(), 1);
    }
}
