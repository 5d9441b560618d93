//! The app bridge's message channel: a WebKit script message handler that answers each
//! message through the promise `postMessage` returns (WebKitGTK 2.40's handlers "with reply").
//!
//! Why not wry's IPC handler: it has no reply, so answers had to be run in the page as a
//! script (`evaluate_script`), and WebKit runs such a script as if the user were acting. The
//! page then held a user gesture after every answer: it could open windows, and navigations it
//! made in the answer's wake were taken as the user's (the e2e test saw a navigation by script
//! after a bridge answer arrive flagged as a user gesture). A reply sent through WebKit's
//! message reply is a plain promise result: no gesture, and it reaches only the document that
//! asked (a page gone, or navigated, never sees it).
//!
//! The handler is in the page's world (the page defines `window.atrium` there), so the page and
//! its same-origin subframes can post to it: what they post is only read as a string, and only
//! within a bound per webview before the bridge's own checks ([`super::bridge::Gate`]).
//!
//! Everything here runs on the GTK main thread. Replies waiting on the server are kept in a
//! main-thread table ([`Pending`]) under a number, which is what crosses threads.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{c_char, CStr, CString};

use webkit2gtk::ffi as wk;
use webkit2gtk::glib;
use webkit2gtk::glib::translate::ToGlibPtr;

/// The handler's name: the page reaches it as `window.webkit.messageHandlers.atrium`.
pub const HANDLER: &str = "atrium";

/// A message WebKit waits to have answered. Answered once ([`Reply::send`]); dropped
/// unanswered, WebKit resolves the page's promise with `undefined`.
pub struct Reply {
    reply: *mut wk::WebKitScriptMessageReply,
    /// The JavaScript context of the message, in which the answer is made.
    context: *mut javascriptcore_rs_sys::JSCContext,
}

impl Reply {
    /// Resolves the page's promise with the string `text`.
    pub fn send(self, text: &str) {
        let Ok(text) = CString::new(text) else { return };
        // SAFETY: `reply` and `context` are held (referenced) by `self` until it drops; the
        // new value is handed to WebKit, which takes its own reference, and released here.
        unsafe {
            let value = javascriptcore_rs_sys::jsc_value_new_string(self.context, text.as_ptr());
            wk::webkit_script_message_reply_return_value(self.reply, value);
            glib::gobject_ffi::g_object_unref(value.cast());
        }
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        // SAFETY: both were referenced when this `Reply` was made.
        unsafe {
            wk::webkit_script_message_reply_unref(self.reply);
            glib::gobject_ffi::g_object_unref(self.context.cast());
        }
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
/// stops other handlers.
unsafe extern "C" fn received<F: Fn(Option<String>, Reply)>(
    _manager: *mut wk::WebKitUserContentManager,
    value: *mut javascriptcore_rs_sys::JSCValue,
    reply: *mut wk::WebKitScriptMessageReply,
    f: glib::ffi::gpointer,
) -> glib::ffi::gboolean {
    let f: &F = &*(f as *const F);
    let text = if javascriptcore_rs_sys::jsc_value_is_string(value) != glib::ffi::GFALSE {
        let raw: *mut c_char = javascriptcore_rs_sys::jsc_value_to_string(value);
        let text = (!raw.is_null()).then(|| CStr::from_ptr(raw).to_string_lossy().into_owned());
        glib::ffi::g_free(raw.cast());
        text
    } else {
        None
    };
    let context = javascriptcore_rs_sys::jsc_value_get_context(value);
    glib::gobject_ffi::g_object_ref(context.cast());
    wk::webkit_script_message_reply_ref(reply);
    f(text, Reply { reply, context });
    glib::ffi::GTRUE
}

thread_local! {
    static PENDING: RefCell<(u64, HashMap<u64, Reply>)> = RefCell::new((0, HashMap::new()));
}

/// A reply waiting on the server, kept on the main thread; its number crosses threads.
pub struct Pending;

impl Pending {
    /// Keeps `reply` until [`Pending::send`]. Main thread only.
    pub fn keep(reply: Reply) -> u64 {
        PENDING.with_borrow_mut(|(next, all)| {
            *next += 1;
            all.insert(*next, reply);
            *next
        })
    }

    /// Answers the reply kept as `number` with `text`. Main thread only.
    pub fn send(number: u64, text: &str) {
        if let Some(reply) = PENDING.with_borrow_mut(|(_, all)| all.remove(&number)) {
            reply.send(text);
        }
    }
}
