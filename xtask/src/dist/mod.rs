//! `cargo xtask dist`: Debian packages of the desktop app (`atrium`) and of the server
//! (`atrium-server`), written to `target/dist/`.
//!
//! The packages are laid out by hand and built with `dpkg-deb`, in the layout Tauri's bundler
//! gives a `.deb` (binary in `/usr/bin`, a desktop entry, hicolor icons, `Depends` on the
//! webkit and GTK libraries), rather than by the bundler itself:
//! - `tauri-cli` (`cargo tauri build`) is not installed, and `cargo install tauri-cli` compiles
//!   several hundred crates: many minutes on this 2-core machine, repeated by every CI run;
//! - the `tauri-bundler` crate as a library would put most of that compile into xtask, which
//!   every `cargo xtask` command builds first;
//! - the bundler knows nothing of the server package (systemd unit, system user, conffile),
//!   which needs `dpkg-deb` anyway. One small code path builds both.
//!
//! What the bundler adds beyond this is AppImage, RPM and other formats. AppImage needs
//! `linuxdeploy` and its plugins, downloaded at bundle time, which this machine can't do.
//!
//! `Depends` is computed by `dpkg-shlibdeps` from the libraries the binaries link, as Debian's
//! own packaging does. The checks that install both packages into an empty root are in
//! [`check`].

mod check;
mod deb;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

pub use check::check;

/// The packages' version: the workspace's (xtask inherits it).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What `dist` needs beyond the build: `dpkg-shlibdeps` (dpkg-dev), and for the checks
/// `systemd-analyze` and `systemd-sysusers` (systemd) and `desktop-file-validate`.
pub const APT_PACKAGES: &[&str] = &["dpkg-dev", "systemd", "desktop-file-utils"];

/// Which binaries to package.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Profile {
    /// Optimised, stripped, serving the embedded UI in production mode (`custom-protocol`).
    Release,
    /// The debug binaries `cargo xtask test` builds (Tauri's dev mode), for testing the
    /// packaging itself without a release build.
    Debug,
}

impl Profile {
    fn dir(self) -> &'static str {
        match self {
            Profile::Release => "release",
            Profile::Debug => "debug",
        }
    }
}

/// Builds the binaries `profile` packages.
pub fn build(root: &Path, profile: Profile) -> Result<()> {
    crate::preflight::ensure()?;
    crate::preflight::ensure_packages(APT_PACKAGES)?;
    match profile {
        Profile::Release => {
            crate::ui::build(root, true)?;
            // `tauri/custom-protocol` is what `cargo tauri build` turns on: Tauri's production
            // mode (`cfg(not(dev))`), no devtools, assets served from the binary.
            crate::run(crate::cargo().args([
                "build",
                "--release",
                "-p",
                "atrium-server",
                "-p",
                "atrium-desktop",
                "--features",
                "atrium-desktop/custom-protocol",
            ]))?;
        }
        Profile::Debug => {
            crate::ui::build(root, false)?;
            // The selection `cargo xtask test` builds, so this reuses its artifacts.
            crate::run(
                crate::cargo()
                    .arg("build")
                    .args(crate::HOST_PACKAGES)
                    .arg("--bins"),
            )?;
        }
    }
    Ok(())
}

/// Packages the binaries already built for `profile`; returns the `.deb` files.
pub fn package(root: &Path, profile: Profile) -> Result<Vec<PathBuf>> {
    let bin = root.join("target").join(profile.dir());
    for name in ["atrium-server", "atrium"] {
        if !bin.join(name).is_file() {
            bail!(
                "{} is missing: build it first (cargo xtask dist does)",
                bin.join(name).display()
            );
        }
    }
    let out = root.join("target/dist");
    std::fs::create_dir_all(&out)?;
    let arch = deb::architecture()?;
    let work = out.join("build");
    let packages = [
        server_package(root, &bin, &work)?,
        desktop_package(root, &bin, &work)?,
    ];
    let mut debs = Vec::new();
    for pkg in &packages {
        debs.push(pkg.build(&work, &out, &arch, profile == Profile::Debug)?);
    }
    std::fs::remove_dir_all(&work).with_context(|| format!("cannot remove {}", work.display()))?;
    for deb in &debs {
        let size = std::fs::metadata(deb)?.len();
        eprintln!(
            "xtask: wrote {} ({:.1} MiB)",
            deb.display(),
            size as f64 / (1024.0 * 1024.0)
        );
    }
    Ok(debs)
}

fn server_package(root: &Path, bin: &Path, work: &Path) -> Result<deb::Package> {
    let mut pkg = deb::Package::new(
        work,
        "atrium-server",
        "net",
        "Atrium platform server: OAuth 2.0 provider, app registry and API",
        "The headless Atrium server, run as the systemd service atrium-server by a user of\n\
         its own. Its settings are in /etc/atrium/server.toml; its database and signing key\n\
         in /var/lib/atrium.",
    )?;
    let server = pkg.install(&bin.join("atrium-server"), "usr/bin/atrium-server", 0o755)?;
    deb::strip(&server)?;
    pkg.write("etc/atrium/server.toml", &server_config(&server)?, 0o644)?;
    pkg.conffile("/etc/atrium/server.toml");
    // postinst creates the service's user with systemd-sysusers.
    pkg.depend("systemd | systemd-standalone-sysusers");
    let packaging = root.join("packaging");
    pkg.install(
        &packaging.join("atrium-server.service"),
        "usr/lib/systemd/system/atrium-server.service",
        0o644,
    )?;
    pkg.install(
        &packaging.join("atrium-server.sysusers"),
        "usr/lib/sysusers.d/atrium-server.conf",
        0o644,
    )?;
    pkg.install(
        &root.join("README.md"),
        "usr/share/doc/atrium-server/README.md",
        0o644,
    )?;
    pkg.script("postinst", &packaging.join("server-postinst"))?;
    pkg.script("prerm", &packaging.join("server-prerm"))?;
    pkg.script("postrm", &packaging.join("server-postrm"))?;
    Ok(pkg)
}

/// `/etc/atrium/server.toml`: the server's own `example-config` (every setting, commented,
/// with its help), with the database in the service's state directory.
fn server_config(server: &Path) -> Result<String> {
    let out = Command::new(server)
        .args(["--db", "/var/lib/atrium/atrium.db", "example-config"])
        .env_remove("ATRIUM_CONFIG")
        .env_remove("ATRIUM_DB")
        .output()
        .with_context(|| format!("cannot run {}", server.display()))?;
    if !out.status.success() {
        bail!(
            "atrium-server example-config failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let body = String::from_utf8(out.stdout).context("example-config printed non-UTF-8")?;
    Ok(format!(
        "# Read by atrium-server.service; apply a change with `systemctl restart atrium-server`.\n\
         # Set public_url before the first start: it is the OAuth issuer apps see.\n\
         #\n{body}"
    ))
}

fn desktop_package(root: &Path, bin: &Path, work: &Path) -> Result<deb::Package> {
    let pkg = deb::Package::new(
        work,
        "atrium",
        "net",
        "Atrium desktop app",
        "Sign in to an Atrium server, manage your companies and install apps. Opens\n\
         atrium:// links.",
    )?;
    let desktop = pkg.install(&bin.join("atrium"), "usr/bin/atrium", 0o755)?;
    deb::strip(&desktop)?;
    pkg.install(
        &root.join("packaging/atrium.desktop"),
        "usr/share/applications/atrium.desktop",
        0o644,
    )?;
    // hicolor wants each PNG under the directory of its real size.
    let icons = root.join("icons");
    for (file, size) in [
        ("32x32.png", "32x32"),
        ("128x128.png", "128x128"),
        ("128x128@2x.png", "256x256"),
        ("icon.png", "512x512"),
    ] {
        pkg.install(
            &icons.join(file),
            &format!("usr/share/icons/hicolor/{size}/apps/atrium.png"),
            0o644,
        )?;
    }
    pkg.install(
        &icons.join("icon.svg"),
        "usr/share/icons/hicolor/scalable/apps/atrium.svg",
        0o644,
    )?;
    Ok(pkg)
}
