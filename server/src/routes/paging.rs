//! Cursor pagination of the list endpoints: `?limit=N&cursor=C` in, a
//! [`atrium_proto::dashboard::Page`] out.
//!
//! A cursor is the sort key of the last item of the previous page (text key and id), encoded
//! as base64url JSON. It is opaque to clients and carries nothing secret; a forged one only
//! chooses where a list the caller may read anyway starts.

use atrium_proto::dashboard::{Page, DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use crate::oauth::params::Params;
use crate::store::{After, PageReq};

/// Longest cursor accepted (a sort key is a name of at most a few hundred bytes).
const MAX_CURSOR: usize = 1024;

#[derive(Serialize, Deserialize)]
struct Wire {
    k: String,
    i: i64,
}

fn bad(why: &str) -> ApiError {
    ApiError::invalid(why.to_string())
}

/// Reads `limit` and `cursor` from a raw query string.
pub fn request(query: &str) -> Result<PageReq, ApiError> {
    let p = Params::parse(query);
    let limit_err = || {
        bad(&format!(
            "limit must be a whole number from 1 to {MAX_PAGE_LIMIT}"
        ))
    };
    let limit = match p.get("limit") {
        Ok(None) => DEFAULT_PAGE_LIMIT,
        Ok(Some(raw)) => match raw.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE_LIMIT).contains(&n) => n,
            _ => return Err(limit_err()),
        },
        Err(_) => return Err(limit_err()),
    };
    let after = match p.get("cursor") {
        Ok(None) => None,
        Ok(Some("")) => None,
        Ok(Some(raw)) => Some(decode(raw).ok_or_else(|| {
            bad("the cursor is not valid: pass next_cursor from the previous page unchanged")
        })?),
        Err(_) => return Err(bad("cursor must be given once")),
    };
    Ok(PageReq { after, limit })
}

fn decode(raw: &str) -> Option<After> {
    if raw.len() > MAX_CURSOR {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
    let w: Wire = serde_json::from_slice(&bytes).ok()?;
    Some(After { key: w.k, id: w.i })
}

fn encode(a: &After) -> String {
    let json = serde_json::to_vec(&Wire {
        k: a.key.clone(),
        i: a.id,
    })
    .unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

/// The wire page: the items mapped by `view`, and the next cursor.
pub fn page<T, V>(page: crate::store::Page<T>, view: impl Fn(&T) -> V) -> Page<V> {
    Page {
        items: page.items.iter().map(view).collect(),
        next_cursor: page.next.as_ref().map(encode),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_survives_the_round_trip_and_garbage_is_refused() {
        let a = After {
            key: "Notes & más".into(),
            id: 42,
        };
        let req = request(&format!("cursor={}&limit=7", encode(&a))).unwrap();
        assert_eq!(req.after, Some(a));
        assert_eq!(req.limit, 7);
        assert!(request("cursor=%%%").is_err());
        assert!(request("limit=0").is_err());
        assert!(request(&format!("limit={}", MAX_PAGE_LIMIT + 1)).is_err());
        assert_eq!(request("").unwrap().limit, DEFAULT_PAGE_LIMIT);
    }
}
