//! A scripted user agent for the server's HTML pages: keeps cookies, follows no redirect (the
//! caller looks at each `Location`, as a test must).

use atrium_proto::paths;
use reqwest::Response;
use serde::Serialize;

use crate::html::hidden_inputs;
use crate::urls::location;

pub struct Browser {
    /// The browser's own client (its cookie jar), for requests the helpers do not cover.
    pub client: reqwest::Client,
    base: String,
}

impl Browser {
    /// A browser, signed in nowhere yet, for the server at `base`.
    pub fn new(base: &str) -> Browser {
        Browser {
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("an HTTP client"),
            base: base.to_string(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Submits the HTML login form (`GET /login`, then the form with its hidden fields);
    /// returns the server's answer, whatever it is.
    pub async fn login(&self, username: &str, password: &str) -> Response {
        let form = self.login_form().await;
        self.post_login(form, username, password).await
    }

    /// `GET /login`: the hidden fields of its form (the CSRF token among them).
    pub async fn login_form(&self) -> Vec<(String, String)> {
        let page = send(self.client.get(self.url(paths::LOGIN)), "GET /login")
            .await
            .text()
            .await
            .expect("the login page's body");
        hidden_inputs(&page)
    }

    /// Posts a login form got by [`Browser::login_form`], with these credentials.
    pub async fn post_login(
        &self,
        mut fields: Vec<(String, String)>,
        username: &str,
        password: &str,
    ) -> Response {
        fields.push(("username".into(), username.into()));
        fields.push(("password".into(), password.into()));
        send(
            self.client.post(self.url(paths::LOGIN)).form(&fields),
            "POST /login",
        )
        .await
    }

    /// Signs in, and checks that it worked (the server answers `303` to the next page).
    pub async fn sign_in(&self, username: &str, password: &str) {
        let res = self.login(username, password).await;
        assert_eq!(res.status(), 303, "signing in as {username}");
    }

    /// `GET /oauth2/authorize?query`: a slice of pairs or an [`crate::Authorize`].
    pub async fn authorize<Q: Serialize + ?Sized>(&self, query: &Q) -> Response {
        send(
            self.client.get(self.url(paths::AUTHORIZE)).query(query),
            "GET /oauth2/authorize",
        )
        .await
    }

    /// `GET /oauth2/authorize?query`, checked to be a consent page (`200` with a decision
    /// form); returns the page.
    pub async fn consent_page<Q: Serialize + ?Sized>(&self, query: &Q) -> String {
        let res = self.authorize(query).await;
        let status = res.status();
        let page = res.text().await.expect("the consent page's body");
        assert!(
            status == 200 && page.contains("name=\"decision\""),
            "expected the consent page, got {status}: {page}"
        );
        page
    }

    /// Submits the consent form of `page` (its hidden inputs, among them `company_id` when the
    /// user owns one company) with `decision`; `extra` fields replace or add to the form's.
    pub async fn decide(&self, page: &str, decision: &str, extra: &[(&str, &str)]) -> Response {
        let mut fields = hidden_inputs(page);
        fields.push(("decision".into(), decision.into()));
        for (k, v) in extra {
            fields.retain(|(name, _)| name != k);
            fields.push((k.to_string(), v.to_string()));
        }
        send(
            self.client.post(self.url(paths::AUTHORIZE)).form(&fields),
            "POST /oauth2/authorize",
        )
        .await
    }

    /// [`Browser::decide`], checked to answer `303`; returns where the server sends the user.
    pub async fn decide_to(&self, page: &str, decision: &str, extra: &[(&str, &str)]) -> String {
        let res = self.decide(page, decision, extra).await;
        assert_eq!(res.status(), 303, "the consent form's answer");
        location(&res)
    }

    /// Asks for the consent page and allows; returns where the server sends the user.
    pub async fn authorize_and_allow<Q: Serialize + ?Sized>(&self, query: &Q) -> String {
        let page = self.consent_page(query).await;
        self.decide_to(&page, "allow", &[]).await
    }
}

/// Sends a request; a transport error fails the test, naming the request.
pub(crate) async fn send(req: reqwest::RequestBuilder, what: &str) -> Response {
    req.send()
        .await
        .unwrap_or_else(|e| panic!("{what}: no answer: {e}"))
}
