//! The sample app over HTTP, in front of a fake Atrium (see `helpers`): callbacks of both
//! methods, launches of the apps' pages, App2's OpenID Connect sign-in, and the webhook receiver.

mod callbacks;
mod helpers;
mod launch;
mod signin;
mod webhook;
