//! Checks the machine before a build: the Debian packages Tauri needs, the wasm32 target and
//! tauri-driver. Installs what is missing when it can (root with apt-get, rustup, cargo), and
//! otherwise says exactly which command to run.

use std::process::{Command, Stdio};

use anyhow::{bail, Result};

/// Debian 12 packages: build (webkit2gtk, soup, appindicator, rsvg, xdo, ssl, pkg-config),
/// `xdg-open` (the desktop opens the system browser with it) and headless tests
/// (WebKitWebDriver, Xvfb, D-Bus).
pub const APT_PACKAGES: &[&str] = &[
    "libwebkit2gtk-4.1-dev",
    "libsoup-3.0-dev",
    "libayatana-appindicator3-dev",
    "librsvg2-dev",
    "libxdo-dev",
    "libssl-dev",
    "pkg-config",
    "xdg-utils",
    "webkit2gtk-driver",
    "xvfb",
    "xauth",
    "dbus",
    "dbus-x11",
];

/// The tauri-driver release the end-to-end tests are written against.
const TAURI_DRIVER_VERSION: &str = "2.1.0";

pub fn ensure() -> Result<()> {
    ensure_apt_packages()?;
    ensure_wasm_target()
}

fn ensure_apt_packages() -> Result<()> {
    ensure_packages(APT_PACKAGES)
}

/// Installs the Debian packages among `packages` that are missing (or says how to).
pub fn ensure_packages(packages: &[&str]) -> Result<()> {
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| !dpkg_installed(p))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let install = format!(
        "apt-get install -y --no-install-recommends {}",
        missing.join(" ")
    );
    if !is_root() {
        bail!(
            "missing system packages; install them with:\n  sudo apt-get update && sudo {install}"
        );
    }
    eprintln!("xtask: installing {}", missing.join(" "));
    crate::run(Command::new("apt-get").arg("update").arg("-qq"))?;
    crate::run(
        Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

fn dpkg_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

fn ensure_wasm_target() -> Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .is_ok_and(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l == "wasm32-unknown-unknown")
        });
    if installed {
        return Ok(());
    }
    crate::run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
        .map_err(|e| e.context("run `rustup target add wasm32-unknown-unknown`"))
}

/// tauri-driver proxies WebDriver to WebKitWebDriver for the end-to-end tests of the desktop.
pub fn ensure_tauri_driver() -> Result<()> {
    let ok = Command::new("tauri-driver")
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Ok(());
    }
    crate::run(crate::cargo().args([
        "install",
        "tauri-driver",
        "--locked",
        "--version",
        TAURI_DRIVER_VERSION,
    ]))
    .map_err(|e| {
        e.context(format!(
            "run `cargo install tauri-driver --locked --version {TAURI_DRIVER_VERSION}`"
        ))
    })
}
