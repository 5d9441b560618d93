//! Logging: `tracing` output on stderr, `info` by default, `RUST_LOG` to change it, readable
//! text or one JSON object per line (`--log-format json`, for log shippers).
//!
//! **Request ids.** The connection layer gives every request a [`RequestId`], returns it in
//! the `X-Request-Id` response header, and keeps it current while the request's handler runs
//! (a task-local, set during each poll). Every log line written meanwhile carries it
//! (`request_id=…`, or a `request_id` key in JSON), and so does the `X-Error-Id` of an
//! internal error, so one id finds a user's failed request in the logs. Ids are random
//! (a per-thread SplitMix64 seeded by the OS), not a sequence: a sequence would tell any
//! client how many requests the server answers. A one-line access log per request is
//! available at debug level: `RUST_LOG=info,atrium::access=debug`.

use std::cell::Cell;
use std::fmt;

use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{DefaultFields, JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Installs the global subscriber. Safe to call more than once (later calls do nothing), which
/// lets tests call it from every helper.
pub fn init(default_filter: &str, format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder
            .event_format(WithRequestId(tracing_subscriber::fmt::format()))
            .fmt_fields(DefaultFields::new())
            .try_init(),
        LogFormat::Json => builder
            .event_format(WithRequestId(tracing_subscriber::fmt::format().json()))
            .fmt_fields(JsonFields::new())
            .try_init(),
    };
}

/// One request's id: 64 random bits, shown as 16 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestId(u64);

tokio::task_local! {
    static CURRENT: RequestId;
}

thread_local! {
    static NEXT: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        bytes = (nanos as u64).to_le_bytes();
    }
    u64::from_le_bytes(bytes)
}

impl RequestId {
    /// A fresh id.
    pub fn new() -> RequestId {
        // SplitMix64: a bijection of the per-thread counter, so a thread never repeats itself.
        let state = NEXT.with(|n| {
            let s = n.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
            n.set(s);
            s
        });
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        RequestId(z ^ (z >> 31))
    }

    /// The id of the request being handled on this task, if any.
    pub fn current() -> Option<RequestId> {
        CURRENT.try_with(|id| *id).ok()
    }

    /// Runs `f` with `self` as the current request id.
    pub fn scope<R>(self, f: impl FnOnce() -> R) -> R {
        CURRENT.sync_scope(self, f)
    }
}

impl Default for RequestId {
    fn default() -> Self {
        RequestId::new()
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// An event format that adds the current request id to what `F` writes: as a last field of
/// a text line, as the first key of a JSON object.
struct WithRequestId<F>(F);

impl<S, N, F> FormatEvent<S, N> for WithRequestId<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let Some(id) = RequestId::current() else {
            return self.0.format_event(ctx, writer, event);
        };
        // Formatted aside (without colours, which a `Writer` of our own cannot ask for), then
        // written with the id added.
        let mut line = String::new();
        self.0.format_event(ctx, Writer::new(&mut line), event)?;
        writer.write_str(&with_request_id(&line, id))
    }
}

/// `line` (one formatted event, ending in a newline) with `id` added.
fn with_request_id(line: &str, id: RequestId) -> String {
    let body = line.strip_suffix('\n').unwrap_or(line);
    match body.strip_prefix('{') {
        Some(rest) => format!("{{\"request_id\":\"{id}\",{rest}\n"),
        None => format!("{body} request_id={id}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_differ_and_read_as_sixteen_hex_digits() {
        let ids: std::collections::HashSet<String> =
            (0..1000).map(|_| RequestId::new().to_string()).collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids
            .iter()
            .all(|id| id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit())));
    }

    #[test]
    fn the_current_id_is_known_only_inside_its_scope() {
        let id = RequestId::new();
        assert_eq!(id.scope(RequestId::current), Some(id));
        assert_eq!(RequestId::current(), None);
    }

    #[test]
    fn the_id_is_added_to_text_and_json_lines() {
        let id = RequestId(0xab);
        assert_eq!(
            with_request_id("2026 INFO atrium: hello user=7\n", id),
            "2026 INFO atrium: hello user=7 request_id=00000000000000ab\n"
        );
        let json = with_request_id("{\"level\":\"INFO\",\"fields\":{}}\n", id);
        let parsed: serde_json::Value = serde_json::from_str(json.trim_end()).expect("JSON");
        assert_eq!(parsed["request_id"], "00000000000000ab");
        assert_eq!(parsed["level"], "INFO");
    }
}
