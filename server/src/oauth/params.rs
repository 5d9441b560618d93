//! Request parameters (query strings and form bodies) where a repeated parameter is an error
//! (RFC 6749 §3.1, §3.2: "parameters MUST NOT be included more than once").

use std::collections::HashMap;

use super::OAuthError;

/// Parsed `application/x-www-form-urlencoded` parameters.
#[derive(Debug, Clone, Default)]
pub struct Params {
    values: HashMap<String, String>,
    repeated: Vec<String>,
}

impl Params {
    pub fn parse(encoded: &str) -> Params {
        let mut p = Params::default();
        for (k, v) in url::form_urlencoded::parse(encoded.as_bytes()) {
            if p.values.contains_key(k.as_ref()) {
                p.repeated.push(k.into_owned());
            } else {
                p.values.insert(k.into_owned(), v.into_owned());
            }
        }
        p
    }

    /// A parameter; empty values count as absent (RFC 6749 §3.1).
    pub fn get(&self, name: &str) -> Result<Option<&str>, OAuthError> {
        if self.repeated.iter().any(|r| r == name) {
            return Err(OAuthError::invalid_request(format!(
                "the {name} parameter is repeated"
            )));
        }
        Ok(self
            .values
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty()))
    }

    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)?
            .ok_or_else(|| OAuthError::invalid_request(format!("the {name} parameter is missing")))
    }

    /// Every parameter except `skip`, for re-emitting a request as hidden form fields.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Fails if any parameter at all is repeated.
    pub fn no_repeats(&self) -> Result<(), OAuthError> {
        match self.repeated.first() {
            Some(name) => Err(OAuthError::invalid_request(format!(
                "the {name} parameter is repeated"
            ))),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_parameters_are_errors_and_empty_ones_are_absent() {
        let p = Params::parse("a=1&b=&a=2&c=x%20y");
        assert!(p.get("a").is_err());
        assert_eq!(p.get("b").unwrap(), None);
        assert_eq!(p.get("c").unwrap(), Some("x y"));
        assert!(p.require("d").is_err());
        assert!(p.no_repeats().is_err());
    }
}
