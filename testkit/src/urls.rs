//! Where a response sends the user, and the parameters of a URL's query and fragment.

/// The `Location` header of a response; panics when there is none.
pub fn location(res: &reqwest::Response) -> String {
    try_location(res).unwrap_or_else(|| {
        panic!(
            "expected a Location header in the {} answer from {}",
            res.status(),
            res.url()
        )
    })
}

/// The `Location` header of a response, if any.
pub fn try_location(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get("location")?
        .to_str()
        .ok()
        .map(str::to_string)
}

/// A query parameter of a URL.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The parameters of a URL's fragment (none when it has no fragment or does not parse).
pub fn fragment_params(url: &str) -> Vec<(String, String)> {
    let Ok(url) = url::Url::parse(url) else {
        return Vec::new();
    };
    url::form_urlencoded::parse(url.fragment().unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// A parameter of a URL's fragment.
pub fn fragment_param(url: &str, name: &str) -> Option<String> {
    fragment_params(url)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_and_fragment_parameters_are_decoded() {
        let url = "https://app.example/cb?code=a%2Bb&state=s#access_token=t%201&state=f";
        assert_eq!(query_param(url, "code").as_deref(), Some("a+b"));
        assert_eq!(query_param(url, "missing"), None);
        assert_eq!(fragment_param(url, "access_token").as_deref(), Some("t 1"));
        assert_eq!(fragment_param(url, "state").as_deref(), Some("f"));
        assert!(fragment_params("not a url").is_empty());
    }
}
