//! What the developer pane does: each action calls the shell and dispatches what it learned to
//! the pane's reducer ([`crate::dev_model`]). A failure is shown in the pane.

use atrium_proto::dashboard::{AppPatch, NewApp};
use atrium_proto::ipc::{self, Command};
use yew::UseReducerDispatcher;

use crate::dev_model::{DevAction, DevModel};
use crate::tauri::invoke;

pub type DevDispatch = UseReducerDispatcher<DevModel>;

/// Runs `cmd`: its answer, or `None` once the error is shown.
async fn run<C: Command>(d: &DevDispatch, cmd: C) -> Option<C::Output> {
    match invoke(&cmd).await {
        Ok(out) => Some(out),
        Err(e) => {
            d.dispatch(DevAction::Failed(e.message));
            None
        }
    }
}

/// The first page of the developer's apps.
pub async fn reload(d: DevDispatch) {
    if let Some(f) = run(&d, ipc::DevApps { cursor: None }).await {
        d.dispatch(DevAction::Apps(f.data));
    }
}

/// The page after `cursor`.
pub async fn more(d: DevDispatch, cursor: Option<String>) {
    if let Some(f) = run(&d, ipc::DevApps { cursor }).await {
        d.dispatch(DevAction::MoreApps(f.data));
    }
}

pub async fn register(d: DevDispatch, app: NewApp) {
    if let Some(created) = run(&d, ipc::DevRegister { app }).await {
        d.dispatch(DevAction::Registered(created));
        reload(d).await;
    }
}

pub async fn rotate_secret(d: DevDispatch, client_id: String) {
    if let Some(r) = run(&d, ipc::DevRotateSecret { client_id }).await {
        d.dispatch(DevAction::Rotated(r));
    }
}

pub async fn delete(d: DevDispatch, client_id: String) {
    if run(&d, ipc::DevDelete { client_id }).await.is_some() {
        reload(d).await;
    }
}

pub async fn update(d: DevDispatch, client_id: String, patch: AppPatch) {
    if run(&d, ipc::DevUpdate { client_id, patch }).await.is_some() {
        d.dispatch(DevAction::EditDone);
        reload(d).await;
    }
}

/// Loads the deliveries of an app into the panel.
pub async fn deliveries(d: DevDispatch, client_id: String) {
    let cmd = ipc::DevDeliveries {
        client_id: client_id.clone(),
    };
    if let Some(list) = run(&d, cmd).await {
        d.dispatch(DevAction::Deliveries(client_id, list));
    }
}

/// Makes one due now, then shows the list as it now stands.
pub async fn retry_delivery(d: DevDispatch, client_id: String, event_id: String) {
    let cmd = ipc::DevRetryDelivery {
        client_id: client_id.clone(),
        event_id,
    };
    if run(&d, cmd).await.is_some() {
        deliveries(d, client_id).await;
    }
}
