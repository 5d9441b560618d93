//! What the dashboard does with the user's inbox: loads the recent notifications and the
//! badges, marks notifications read, and opens a notification's app at its deep path (in its
//! company, switching to it first).

use atrium_proto::inbox::NotificationView;
use atrium_proto::ipc::{self, OpenNotification};

use crate::actions::{fail, open, select_company, Dispatch};
use crate::model::Action;
use crate::tauri::invoke;

/// The recent notifications and the badges (the shell's stream brings what comes next).
pub async fn load(d: Dispatch) {
    if let Ok(page) = invoke(&ipc::Notifications { cursor: None }).await {
        d.dispatch(Action::Notified(page.items));
    }
    if let Ok(badges) = invoke(&ipc::Badges {}).await {
        d.dispatch(Action::Badges(badges));
    }
    if let Ok(link) = invoke(&ipc::InboxLinkGet {}).await {
        d.dispatch(Action::InboxMode(link.mode));
    }
}

pub async fn mark_read(d: Dispatch, ids: Vec<i64>) {
    if ids.is_empty() {
        return;
    }
    // At most what one request may name, a page at a time.
    for chunk in ids.chunks(atrium_proto::inbox::MAX_MARK_IDS) {
        let arg = ipc::MarkNotificationsRead {
            ids: chunk.to_vec(),
        };
        match invoke(&arg).await {
            Ok(_) => d.dispatch(Action::Read(chunk.to_vec())),
            Err(e) => return fail(&d, e),
        }
    }
}

/// The user clicked a notification in the notification centre: read, and opened.
pub async fn open_listed(d: Dispatch, n: NotificationView) {
    mark_read(d.clone(), vec![n.id]).await;
    open_at(
        d,
        OpenNotification {
            id: n.id,
            install_id: n.install_id,
            company_id: n.company_id,
            path: n.path,
        },
    )
    .await;
}

/// Opens a notification's app, in its company, launched afresh at its path (the shell marked a
/// clicked native notification read already).
pub async fn open_at(d: Dispatch, n: OpenNotification) {
    d.dispatch(Action::Read(vec![n.id]));
    let install = match invoke(&ipc::GetInstall {
        install_id: n.install_id,
    })
    .await
    {
        Ok(install) => install,
        Err(e) => return fail(&d, e),
    };
    select_company(d.clone(), n.company_id).await;
    if n.path.is_none() {
        return open(d, install).await;
    }
    if !install.has_ui {
        return open(d, install).await;
    }
    d.dispatch(Action::Opened(crate::model::OpenApp {
        install_id: install.id,
        name: install.app_name,
        asleep: false,
        pinned: false,
        path: n.path,
        launch: 0,
    }));
}
