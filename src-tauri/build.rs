//! Points tauri-build at the `tauri.conf.json` in the repository root.

use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=../tauri.conf.json");
    println!("cargo:rerun-if-changed=../ui/dist");
    ensure_frontend_dist();
    tauri_build::try_build(tauri_build::Attributes::new().config_path("../tauri.conf.json"))
        .expect("tauri-build failed");
}

/// `generate_context!` needs `ui/dist` to exist. The real UI is built by `cargo xtask ui` (never
/// from here: cargo inside build.rs deadlocks on the target directory), so on a fresh clone a
/// plain `cargo check` gets a page that says how to build it, instead of a compile error.
fn ensure_frontend_dist() {
    let dist = Path::new("../ui/dist");
    if dist.join("index.html").exists() {
        return;
    }
    println!("cargo:warning=ui/dist is missing; run `cargo xtask ui` to build the dashboard");
    std::fs::create_dir_all(dist).expect("create ui/dist");
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><meta charset=utf-8><title>Atrium</title>\
         <p>The dashboard was not built. Run <code>cargo xtask ui</code>, then rebuild.</p>",
    )
    .expect("write ui/dist/index.html");
}
