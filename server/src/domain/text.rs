//! Bounded text: every piece of text the server stores goes through one of these types, so no
//! field can grow without limit and no name can carry control characters.
//!
//! Lengths count characters (Unicode scalar values), as a person would; the byte size of each
//! field is then at most four times its limit. The limits are constants, not settings: they
//! bound what one stored row can cost, and clients (the desktop's forms) rely on them.

/// The longest app or company name.
pub const MAX_NAME: usize = 100;
/// The longest app description.
pub const MAX_DESCRIPTION: usize = 2000;
/// The longest URL (redirect, iframe or webhook URL); browsers and proxies handle 2,048.
pub const MAX_URL: usize = 2048;
/// The most redirect URIs one app may register.
pub const MAX_REDIRECT_URIS: usize = 10;
/// The longest username.
pub const MAX_USERNAME: usize = 64;
/// The longest email address (RFC 5321's path limit).
pub const MAX_EMAIL: usize = 254;
/// The longest display name.
pub const MAX_DISPLAY_NAME: usize = 100;

/// Why a piece of text was refused; the message names the field and the limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("the {what} must not be empty")]
    Empty { what: &'static str },
    #[error("the {what} is too long: at most {max} characters")]
    TooLong { what: &'static str, max: usize },
    #[error("the {what} must not contain control characters")]
    Control { what: &'static str },
    #[error("the {what} may only contain letters, digits, '.', '_' and '-'")]
    Charset { what: &'static str },
    #[error("the {what} is not an email address")]
    Email { what: &'static str },
    #[error("too many {what}: at most {max}")]
    TooMany { what: &'static str, max: usize },
}

fn bounded(what: &'static str, s: &str, max: usize) -> Result<(), TextError> {
    if s.chars().count() > max {
        return Err(TextError::TooLong { what, max });
    }
    Ok(())
}

/// A one-line name (of an app, a company, a person): trimmed, 1 to `max` characters, no
/// control characters at all (NUL, newlines, escapes, bidi overrides are in Unicode's Cc/Cf
/// categories; we refuse Cc, and the bidi controls explicitly).
pub fn name(what: &'static str, raw: &str, max: usize) -> Result<String, TextError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(TextError::Empty { what });
    }
    bounded(what, s, max)?;
    if s.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        return Err(TextError::Control { what });
    }
    Ok(s.to_string())
}

/// Free text (a description): trimmed, at most `max` characters; line breaks and tabs are
/// allowed, other control characters are not.
pub fn free_text(what: &'static str, raw: &str, max: usize) -> Result<String, TextError> {
    let s = raw.trim();
    bounded(what, s, max)?;
    if s.chars()
        .any(|c| (c.is_control() && !matches!(c, '\n' | '\r' | '\t')) || is_bidi_control(c))
    {
        return Err(TextError::Control { what });
    }
    Ok(s.to_string())
}

/// The Unicode bidirectional overrides and isolates, which can make a name display as
/// something else.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// An app name.
pub fn app_name(raw: &str) -> Result<String, TextError> {
    name("app name", raw, MAX_NAME)
}

/// A company name.
pub fn company_name(raw: &str) -> Result<String, TextError> {
    name("company name", raw, MAX_NAME)
}

/// An app description (may be empty).
pub fn description(raw: &str) -> Result<String, TextError> {
    free_text("description", raw, MAX_DESCRIPTION)
}

/// A display name.
pub fn display_name(raw: &str) -> Result<String, TextError> {
    name("display name", raw, MAX_DISPLAY_NAME)
}

/// A username: 1 to 64 ASCII letters, digits, '.', '_' or '-' (so it is safe in URLs, logs
/// and file names, and cannot imitate another by Unicode look-alikes).
pub fn username(raw: &str) -> Result<String, TextError> {
    let what = "username";
    if raw.is_empty() {
        return Err(TextError::Empty { what });
    }
    bounded(what, raw, MAX_USERNAME)?;
    if !raw
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(TextError::Charset { what });
    }
    Ok(raw.to_string())
}

/// An email address: at most 254 characters, one '@' with text on both sides, no spaces or
/// control characters. (Deliverability is not checked: nothing is ever sent to it.)
pub fn email(raw: &str) -> Result<String, TextError> {
    let what = "email address";
    let s = raw.trim();
    bounded(what, s, MAX_EMAIL)?;
    if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(TextError::Control { what });
    }
    match s.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@') =>
        {
            Ok(s.to_string())
        }
        _ => Err(TextError::Email { what }),
    }
}

/// Checks the length of a URL before it is parsed (parsing is what checks the rest).
pub fn url_length(what: &'static str, raw: &str) -> Result<(), TextError> {
    bounded(what, raw, MAX_URL)
}

/// Checks how many redirect URIs an app registers.
pub fn redirect_uri_count(n: usize) -> Result<(), TextError> {
    if n > MAX_REDIRECT_URIS {
        return Err(TextError::TooMany {
            what: "redirect URIs",
            max: MAX_REDIRECT_URIS,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded_in_characters_not_bytes() {
        assert_eq!(app_name("  Notes ").unwrap(), "Notes");
        assert!(app_name(&"é".repeat(MAX_NAME)).is_ok());
        assert_eq!(
            app_name(&"a".repeat(MAX_NAME + 1)).unwrap_err().to_string(),
            "the app name is too long: at most 100 characters"
        );
        assert!(matches!(app_name("  "), Err(TextError::Empty { .. })));
    }

    #[test]
    fn names_refuse_nul_escapes_newlines_and_bidi_overrides() {
        for bad in ["a\0b", "a\u{1b}[31mb", "a\nb", "a\u{202E}b", "a\u{7f}"] {
            assert!(
                matches!(company_name(bad), Err(TextError::Control { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn descriptions_keep_line_breaks_but_not_other_controls() {
        assert_eq!(description("one\ntwo").unwrap(), "one\ntwo");
        assert_eq!(description("").unwrap(), "");
        assert!(description("a\0").is_err());
        assert!(description(&"x".repeat(MAX_DESCRIPTION + 1)).is_err());
    }

    #[test]
    fn usernames_and_emails() {
        assert!(username("ada.l-1_").is_ok());
        assert!(username("ada lovelace").is_err());
        assert!(username(&"a".repeat(65)).is_err());
        assert!(email("ada@example.com").is_ok());
        assert!(email("ada").is_err());
        assert!(email("a@b@c").is_err());
        assert!(email(&format!("{}@x.io", "a".repeat(260))).is_err());
    }
}
