//! The dashboard's views, one component per file. Each takes only the data it shows and a
//! callback per thing the user can do there (the shape of Yew's `function_todomvc`); none sees
//! the whole [`crate::model::Model`] or calls the shell, except the developer pane, which runs
//! its own reducer ([`crate::dev_model`]) over [`crate::dev_actions`], and the company pane,
//! which loads its members itself.

pub mod app_detail;
pub mod catalog;
pub mod company;
pub mod consent;
pub mod deliveries;
pub mod developer;
pub mod edit_app;
pub mod inbox_settings;
pub mod installing;
pub mod invitations;
pub mod notifications;
pub mod open_apps;
pub mod register_app;
pub mod settings;
pub mod sidebar;
pub mod sign_in;

use web_sys::HtmlInputElement;
use yew::prelude::*;

/// Initials of an app or company name, for its monogram.
pub fn monogram(name: &str) -> String {
    let words: Vec<&str> = name.split_whitespace().collect();
    let m: String = match words.as_slice() {
        [] => "?".into(),
        [one] => {
            // "App2" → "A2", "Notes" → "NO": the first letter and the next digit or letter.
            let mut chars = one.chars();
            let first = chars.next().into_iter();
            let second = one
                .chars()
                .skip(1)
                .find(|c| c.is_ascii_digit())
                .or_else(|| chars.next());
            first.chain(second).collect()
        }
        many => many
            .iter()
            .filter_map(|w| w.chars().next())
            .take(2)
            .collect(),
    };
    m.to_uppercase()
}

/// A stable hue for a name (FNV-1a into twelve well-spaced hues), so each app keeps its colour.
pub fn hue(name: &str) -> u32 {
    let h = name.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ b as u32).wrapping_mul(0x0100_0193)
    });
    (h % 12) * 30 + 10
}

/// An app's or company's monogram in its colour.
pub fn mono(name: &str, class: &'static str) -> Html {
    let style = format!("background: hsl({}, 55%, 46%)", hue(name));
    html! { <span class={classes!("mono", class)} {style} aria-hidden="true">{ monogram(name) }</span> }
}

/// The value of the input an event came from.
pub fn input_value<E: AsRef<Event>>(e: &E) -> String {
    e.as_ref()
        .target_unchecked_into::<HtmlInputElement>()
        .value()
}

/// "by Ada", or nothing when the developer is unknown.
pub fn by_developer(developer: &Option<String>) -> String {
    developer
        .as_ref()
        .map(|d| format!("by {d}"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monograms_take_a_letter_and_a_digit_or_two_initials() {
        assert_eq!(monogram("App2"), "A2");
        assert_eq!(monogram("Notes"), "NO");
        assert_eq!(monogram("Analytical Engines Ltd"), "AE");
        assert_eq!(monogram("  "), "?");
    }

    #[test]
    fn a_name_keeps_its_hue() {
        assert_eq!(hue("Notes"), hue("Notes"));
        assert!(hue("Notes") < 360 && hue("Notes") % 30 == 10);
    }
}
