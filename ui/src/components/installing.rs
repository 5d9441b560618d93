//! An install in progress: its steps, and what went wrong if it failed.

use yew::prelude::*;

use crate::model::{InstallStep, Installing as Progress};

#[derive(Properties, PartialEq)]
pub struct InstallingProps {
    pub progress: Progress,
    /// Back to the catalog (the install goes on in the background).
    pub on_back: Callback<()>,
}

#[function_component(Installing)]
pub fn installing(p: &InstallingProps) -> Html {
    let i = &p.progress;
    let in_browser = i.step == InstallStep::InBrowser;
    let steps = [
        if in_browser {
            "Allowing it in your browser".to_string()
        } else {
            "Recording your consent".to_string()
        },
        format!("Waiting for {} to finish setting up", i.app_name),
        "Opening the app".to_string(),
    ];
    let current = match &i.step {
        InstallStep::Approving | InstallStep::InBrowser => Some(0),
        InstallStep::WaitingForApp => Some(1),
        InstallStep::Opening => Some(2),
        InstallStep::Failed(_) => None,
    };
    let back = |label: &'static str| {
        html! { <button class="button secondary" onclick={p.on_back.reform(|_: MouseEvent| ())}>{ label }</button> }
    };
    html! {
        <section class="installing" id="installing">
            <h1>{ format!("Installing {}", i.app_name) }</h1>
            <ol class="steps">
                { for steps.iter().enumerate().map(|(n, label)| {
                    let class = match current {
                        Some(c) if n < c => "done",
                        Some(c) if n == c => "current",
                        _ => "",
                    };
                    html! { <li class={class}>{ label }</li> }
                }) }
            </ol>
            if let InstallStep::Failed(why) = &i.step {
                <p class="error" role="alert" id="install-error">{ format!("The install did not complete: {why}") }</p>
                { back("Back to the catalog") }
            } else if in_browser {
                <p class="muted" id="install-in-browser">{ format!("{}'s install page is open in your browser. Choose the company there and allow it; the app opens here when it is done.", i.app_name) }</p>
                { back("Continue in the background") }
            } else if current == Some(1) {
                <p class="muted">{ "The app's page opened in its own window. When it is done, it sends you back here." }</p>
                { back("Continue in the background") }
            }
        </section>
    }
}
