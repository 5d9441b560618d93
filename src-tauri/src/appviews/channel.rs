//! The app bridge's message channel: a WebKit script message handler that answers each
//! message through the promise `postMessage` returns (WebKitGTK 2.40's handlers "with reply").
//!
//! Why not wry's IPC handler: it has no reply, so answers had to be run in the page as a
//! script (`evaluate_script`), and WebKit runs such a script as if the user were acting. The
//! page then held a user gesture after every answer: it could open windows, and navigations it
//! made in the answer's wake were taken as the user's (the e2e test saw a navigation by script
//! after a bridge answer arrive flagged as a user gesture). A reply sent through WebKit's
//! message reply settles the promise of the page's `postMessage`: no gesture, and it reaches
//! only the document that asked (a page gone, or navigated, never sees it). That document can
//! observe its own promise (a `Promise.prototype` it changed, say): answers hold nothing but
//! that call's result, never the key.
//!
//! The handler is in the page's world (the page defines `window.atrium` there), so the page and
//! its same-origin subframes can post to it: what they post is only read as a string, and only
//! within a bound per webview before the bridge's own checks ([`super::bridge::Gate`]).
//!
//! Everything here runs on the GTK main thread. Replies waiting on the server are kept in a
//! main-thread table ([`Pending`]) under a number, which is what crosses threads.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::CString;
use std::time::{Duration, Instant};

use webkit2gtk::ffi as wk;
use webkit2gtk::glib;
use webkit2gtk::glib::translate::ToGlibPtr;

/// The handler's name: the page reaches it as `window.webkit.messageHandlers.atrium`.
pub const HANDLER: &str = "atrium";

/// A message WebKit waits to have answered. Answered once ([`Reply::send`]); dropped
/// unanswered, WebKit resolves the page's promise with `undefined`.
///
/// The answer travels as the reply's *error message*, a plain string, and the script reads it
/// from the rejection: a reply *value* is a JavaScript value that WebKit serializes in its
/// shared JavaScript context, which it discards after some seconds idle, so a value made in
/// the message's context could belong to a discarded one by the time the server has answered.
/// A string needs no context at all.
pub struct Reply(*mut wk::WebKitScriptMessageReply);

impl Reply {
    /// Settles the page's promise with `text` (as its rejection's `message`).
    pub fn send(self, text: &str) {
        let Ok(text) = CString::new(text) else { return };
        // SAFETY: the reply is referenced by `self` until it drops; WebKit copies the string.
        unsafe { wk::webkit_script_message_reply_return_error_message(self.0, text.as_ptr()) }
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        // SAFETY: referenced when this `Reply` was made.
        unsafe { wk::webkit_script_message_reply_unref(self.0) }
    }
}

/// Registers the handler on `webview`'s content manager and calls `on_message` with each
/// message posted to it: its text (`None` when it is not a string), and the reply to answer.
/// Before the page loads: a page finds the handler only if it is there when the page starts.
pub fn listen(
    webview: &webkit2gtk::WebView,
    on_message: impl Fn(Option<String>, Reply) + 'static,
) -> Result<(), String> {
    use webkit2gtk::WebViewExt;
    let manager = webview
        .user_content_manager()
        .ok_or("the webview has no content manager")?;
    let name = CString::new(HANDLER).map_err(|e| e.to_string())?;
    let signal = CString::new(format!("script-message-with-reply-received::{HANDLER}"))
        .map_err(|e| e.to_string())?;
    let raw: *mut wk::WebKitUserContentManager = manager.to_glib_none().0;
    // SAFETY: the closure is boxed and owned by the signal connection, which frees it when the
    // manager is finalized; the trampoline's arguments are those of the signal's C signature.
    unsafe {
        glib::signal::connect_raw(
            raw.cast(),
            signal.as_ptr(),
            Some(std::mem::transmute::<*const (), unsafe extern "C" fn()>(
                received::<Box<dyn Fn(Option<String>, Reply)>> as *const (),
            )),
            Box::into_raw(Box::new(
                Box::new(on_message) as Box<dyn Fn(Option<String>, Reply)>
            )),
        );
        if wk::webkit_user_content_manager_register_script_message_handler_with_reply(
            raw,
            name.as_ptr(),
            std::ptr::null(),
        ) == glib::ffi::GFALSE
        {
            return Err("cannot register the bridge's message handler".into());
        }
    }
    Ok(())
}

/// `script-message-with-reply-received`: takes the reply (answered later, or dropped) and
/// stops other handlers. A message that is not a string, is longer than the bridge's largest,
/// holds a NUL or is not UTF-8 is passed on as `None`: its bytes are measured before any
/// string of the shell's is made of them.
unsafe extern "C" fn received<F: Fn(Option<String>, Reply)>(
    _manager: *mut wk::WebKitUserContentManager,
    value: *mut javascriptcore_rs_sys::JSCValue,
    reply: *mut wk::WebKitScriptMessageReply,
    f: glib::ffi::gpointer,
) -> glib::ffi::gboolean {
    if reply.is_null() {
        return glib::ffi::GTRUE;
    }
    let f: &F = &*(f as *const F);
    let mut text = None;
    if !value.is_null() && javascriptcore_rs_sys::jsc_value_is_string(value) != glib::ffi::GFALSE {
        let bytes = javascriptcore_rs_sys::jsc_value_to_string_as_bytes(value);
        if !bytes.is_null() {
            let mut len = 0usize;
            let data = glib::ffi::g_bytes_get_data(bytes, &mut len);
            if !data.is_null() && len <= atrium_proto::bridge::MAX_MESSAGE {
                let raw = std::slice::from_raw_parts(data.cast::<u8>(), len);
                text = std::str::from_utf8(raw)
                    .ok()
                    .filter(|t| !t.contains('\0'))
                    .map(str::to_owned);
            }
            glib::ffi::g_bytes_unref(bytes);
        }
    }
    wk::webkit_script_message_reply_ref(reply);
    f(text, Reply(reply));
    glib::ffi::GTRUE
}

thread_local! {
    static PENDING: RefCell<Waiting> = RefCell::new(Waiting::default());
}

#[derive(Default)]
struct Waiting {
    next: u64,
    replies: HashMap<u64, (Instant, Reply)>,
}

/// How long a reply waits on the server at most: the script gives up after 30 s.
const WAIT_AT_MOST: Duration = Duration::from_secs(35);

/// A reply waiting on the server, kept on the main thread; its number crosses threads.
pub struct Pending;

impl Pending {
    /// Keeps `reply` until [`Pending::send`], or until it has waited [`WAIT_AT_MOST`] (then
    /// it is dropped when the next is kept). Main thread only.
    pub fn keep(reply: Reply) -> u64 {
        let now = Instant::now();
        PENDING.with_borrow_mut(|w| {
            w.replies
                .retain(|_, (since, _)| now.duration_since(*since) < WAIT_AT_MOST);
            w.next += 1;
            w.replies.insert(w.next, (now, reply));
            w.next
        })
    }

    /// Answers the reply kept as `number` with `text`. Main thread only.
    pub fn send(number: u64, text: &str) {
        if let Some((_, reply)) = PENDING.with_borrow_mut(|w| w.replies.remove(&number)) {
            reply.send(text);
        }
    }
}
