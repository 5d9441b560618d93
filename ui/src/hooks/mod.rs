//! The dashboard's hooks: the shell's events and the keyboard shortcuts, each subscribed for
//! the lifetime of the component that uses it.

mod shell_events;
mod shortcuts;

pub use shell_events::use_shell_events;
pub use shortcuts::use_app_shortcuts;
