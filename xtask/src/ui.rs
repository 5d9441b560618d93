//! Builds the Yew dashboard: `cargo build --target wasm32-unknown-unknown`, then the
//! wasm-bindgen library (pinned to the UI's wasm-bindgen version) writes `ui/dist/`.

use std::path::Path;

use anyhow::{Context, Result};

pub fn build(root: &Path, release: bool) -> Result<()> {
    let mut cmd = crate::cargo();
    cmd.args([
        "build",
        "-p",
        "atrium-ui",
        "--target",
        "wasm32-unknown-unknown",
    ]);
    if release {
        cmd.arg("--release");
    }
    crate::run(&mut cmd)?;
    let profile = if release { "release" } else { "debug" };
    let wasm = root.join(format!(
        "target/wasm32-unknown-unknown/{profile}/atrium-ui.wasm"
    ));
    let dist = root.join("ui/dist");
    // Start clean so files of an older build never linger.
    if dist.exists() {
        std::fs::remove_dir_all(&dist)
            .with_context(|| format!("cannot clear {}", dist.display()))?;
    }
    std::fs::create_dir_all(&dist)?;
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&wasm)
        .web(true)?
        .out_name("atrium_ui")
        .typescript(false)
        .debug(!release)
        .generate(&dist)
        .with_context(|| format!("wasm-bindgen failed on {}", wasm.display()))?;
    for entry in std::fs::read_dir(root.join("ui/static"))? {
        let entry = entry?;
        std::fs::copy(entry.path(), dist.join(entry.file_name()))?;
    }
    std::fs::copy(root.join("icons/icon.svg"), dist.join("icon.svg"))?;
    let size: u64 = std::fs::read_dir(&dist)?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    eprintln!("xtask: ui/dist written ({} KiB)", size / 1024);
    Ok(())
}
