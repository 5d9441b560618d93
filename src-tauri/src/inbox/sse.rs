//! A parser of `text/event-stream` (the WHATWG HTML standard's "Server-sent events", §9.2.6),
//! fed the body's chunks as they come: enough of it for the server's stream (`event`, `data`,
//! `id`, comments), without a dependency.
//!
//! Lines end with CRLF, LF or CR; a line is decoded only once it is whole, so a UTF-8
//! character split over two chunks stays intact. An event is dispatched at a blank line; one
//! with no `data` is dropped (as a browser drops it), but its `id` still counts.

/// One event of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// `message` when the server named none.
    pub event: String,
    pub data: String,
    /// The `id` field of this event, if it had one.
    pub id: Option<String>,
}

/// The longest line kept (a notification's JSON is a few KB): a longer one is a broken or
/// hostile stream, and is cut.
const MAX_LINE: usize = 64 * 1024;

#[derive(Debug, Default)]
pub struct SseParser {
    buf: Vec<u8>,
    /// The previous chunk ended with CR: a LF starting this one belongs to it.
    after_cr: bool,
    event: String,
    data: String,
    has_data: bool,
    id: Option<String>,
}

impl SseParser {
    /// Feeds a chunk of the body; answers the events it completed, in order.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        for &b in chunk {
            if std::mem::take(&mut self.after_cr) && b == b'\n' {
                continue;
            }
            match b {
                b'\n' | b'\r' => {
                    self.after_cr = b == b'\r';
                    let line = std::mem::take(&mut self.buf);
                    self.line(&String::from_utf8_lossy(&line), &mut out);
                }
                _ if self.buf.len() < MAX_LINE => self.buf.push(b),
                _ => {}
            }
        }
        out
    }

    fn line(&mut self, line: &str, out: &mut Vec<SseEvent>) {
        if line.is_empty() {
            let event = std::mem::take(&mut self.event);
            let data = std::mem::take(&mut self.data);
            let id = self.id.take();
            if std::mem::take(&mut self.has_data) {
                out.push(SseEvent {
                    event: if event.is_empty() {
                        "message".into()
                    } else {
                        event
                    },
                    data,
                    id,
                });
            } else if id.is_some() {
                // An event of no data still moves the last event id.
                out.push(SseEvent {
                    event: "id".into(),
                    data: String::new(),
                    id,
                });
            }
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = value.to_string(),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            // An id holding NUL is ignored, as the standard says.
            "id" if !value.contains('\0') => self.id = Some(value.to_string()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut p = SseParser::default();
        chunks.iter().flat_map(|c| p.feed(c)).collect()
    }

    #[test]
    fn events_are_dispatched_at_blank_lines_with_their_name_id_and_data() {
        let got = all(&[b": hello\n\nevent: notification\nid: 7\ndata: {\"a\":1}\n\ndata: x\n\n"]);
        assert_eq!(
            got,
            vec![
                SseEvent {
                    event: "notification".into(),
                    data: "{\"a\":1}".into(),
                    id: Some("7".into()),
                },
                SseEvent {
                    event: "message".into(),
                    data: "x".into(),
                    id: None,
                },
            ]
        );
    }

    #[test]
    fn chunks_may_split_lines_characters_and_crlf_anywhere() {
        let text = "event: badges\r\ndata: [\"é\"]\r\n\r\n".as_bytes();
        for cut in 0..text.len() {
            let got = all(&[&text[..cut], &text[cut..]]);
            assert_eq!(got.len(), 1, "cut at {cut}: {got:?}");
            assert_eq!(got[0].event, "badges");
            assert_eq!(got[0].data, "[\"é\"]", "cut at {cut}");
        }
    }

    #[test]
    fn data_lines_join_with_newlines_and_an_unfinished_event_waits() {
        let mut p = SseParser::default();
        assert!(p.feed(b"data: a\ndata:b\ndata\n").is_empty());
        let got = p.feed(b"\r");
        assert_eq!(got[0].data, "a\nb\n");
        assert!(p.feed(b"data: late").is_empty());
    }

    #[test]
    fn an_event_without_data_still_carries_its_id() {
        let got = all(&[b"id: 12\n\nevent: x\n\n"]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].id.as_deref(), Some("12"));
        assert_eq!(got[0].event, "id");
    }
}
