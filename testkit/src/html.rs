//! Reading the server's HTML pages as a browser would: a form's hidden fields, and where a
//! `<meta http-equiv="refresh">` sends the user.

/// The `<input type="hidden">` fields of a page, unescaped, in page order.
pub fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for chunk in html.split("<input type=\"hidden\" ").skip(1) {
        let attr = |name: &str| -> Option<String> {
            let start = chunk.find(&format!("{name}=\""))? + name.len() + 2;
            let end = chunk[start..].find('"')? + start;
            Some(unescape(&chunk[start..end]))
        };
        if let (Some(n), Some(v)) = (attr("name"), attr("value")) {
            out.push((n, v));
        }
    }
    out
}

/// The target of `<meta http-equiv="refresh" content="N;url=...">`, HTML-unescaped.
pub fn meta_refresh(html: &str) -> Option<String> {
    let tag_start = html.find("http-equiv=\"refresh\"")?;
    let tag = &html[tag_start..];
    let url_start = tag.find("url=")? + 4;
    let end = tag[url_start..].find('"')? + url_start;
    Some(unescape(&tag[url_start..end]))
}

/// Undoes the server's HTML escaping of attribute values.
pub fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_inputs_are_read_in_order_and_unescaped() {
        let page = r#"<form><input type="hidden" name="a" value="1&amp;2">
            <input type="text" name="visible" value="no">
            <input type="hidden" name="b" value="&quot;x&quot;"></form>"#;
        assert_eq!(
            hidden_inputs(page),
            vec![("a".into(), "1&2".into()), ("b".into(), "\"x\"".into())]
        );
    }

    #[test]
    fn a_meta_refresh_target_is_unescaped() {
        let page = r#"<meta http-equiv="refresh" content="0;url=atrium://x?a=1&amp;b=2">"#;
        assert_eq!(meta_refresh(page).as_deref(), Some("atrium://x?a=1&b=2"));
        assert_eq!(meta_refresh("<p>no refresh</p>"), None);
    }
}
