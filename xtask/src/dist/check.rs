//! Installs the packages into an empty root with `dpkg --root` and checks what landed: the
//! files, the dpkg database (conffile recorded), the system user, the systemd unit
//! (`systemd-analyze verify`, and its sandboxing score), the desktop entry
//! (`desktop-file-validate`, the `atrium://` handler) and the installed server binary.
//!
//! The maintainer scripts run too, outside a chroot (`--force-script-chrootless`): dpkg gives
//! them the root in `DPKG_ROOT`, and the server's `postinst` creates its user there.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, ensure, Context, Result};

/// Files each package must install.
const FILES: &[&str] = &[
    "usr/bin/atrium-server",
    "etc/atrium/server.toml",
    "usr/lib/systemd/system/atrium-server.service",
    "usr/lib/sysusers.d/atrium-server.conf",
    "usr/bin/atrium",
    "usr/share/applications/atrium.desktop",
    "usr/share/icons/hicolor/32x32/apps/atrium.png",
    "usr/share/icons/hicolor/128x128/apps/atrium.png",
    "usr/share/icons/hicolor/256x256/apps/atrium.png",
    "usr/share/icons/hicolor/scalable/apps/atrium.svg",
];

/// The highest `systemd-analyze security` exposure accepted (0 is locked down, 10 is
/// unprotected; 2 is the top of its "OK" band).
const MAX_EXPOSURE: f64 = 2.0;

pub fn check(root: &Path, debs: &[PathBuf]) -> Result<()> {
    crate::preflight::ensure_packages(super::APT_PACKAGES)?;
    let fresh = root.join("target/dist/root");
    let _removed = RemoveOnDrop(fresh.clone());
    install(&fresh, debs)?;
    for file in FILES {
        ensure!(
            fresh.join(file).is_file(),
            "the packages did not install /{file}"
        );
    }
    check_dpkg_database(&fresh)?;
    let passwd = std::fs::read_to_string(fresh.join("etc/passwd"))
        .context("postinst created no /etc/passwd in the root")?;
    ensure!(
        passwd.lines().any(|l| l.starts_with("atrium:")),
        "postinst did not create the atrium user:\n{passwd}"
    );
    check_unit(&fresh)?;
    check_desktop_entry(&fresh)?;
    check_server_binary(&fresh)?;
    eprintln!("xtask: the packages install and check out");
    Ok(())
}

/// An empty dpkg database under `fresh`, then both packages installed into it.
fn install(fresh: &Path, debs: &[PathBuf]) -> Result<()> {
    if fresh.exists() {
        std::fs::remove_dir_all(fresh)?;
    }
    let admin = fresh.join("var/lib/dpkg");
    for dir in ["info", "updates", "triggers"] {
        std::fs::create_dir_all(admin.join(dir))?;
    }
    std::fs::write(admin.join("status"), "")?;
    std::fs::write(admin.join("available"), "")?;
    let mut dpkg = Command::new("dpkg");
    dpkg.arg(format!("--root={}", fresh.display()))
        .args([
            "--log=/dev/null",
            // The root has no libc or systemd: the dependencies are the host's concern.
            "--force-depends",
            "--force-script-chrootless",
            // A root of our own: no superuser needed.
            "--force-not-root",
            "--install",
        ])
        .args(debs);
    eprintln!("xtask: running {dpkg:?}");
    // Quiet unless it fails: it lists every dependency the empty root lacks.
    let out = dpkg.output().context("cannot run dpkg")?;
    if !out.status.success() {
        bail!(
            "dpkg --install failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

fn check_dpkg_database(fresh: &Path) -> Result<()> {
    let out = Command::new("dpkg-query")
        .arg(format!("--root={}", fresh.display()))
        .args(["-W", "-f=${Package} ${Status}|${Conffiles}\n"])
        .output()
        .context("cannot run dpkg-query")?;
    let text = String::from_utf8_lossy(&out.stdout);
    for pkg in ["atrium-server", "atrium"] {
        ensure!(
            text.lines()
                .any(|l| l.starts_with(&format!("{pkg} install ok installed"))),
            "{pkg} is not installed in the root:\n{text}"
        );
    }
    ensure!(
        text.contains(" /etc/atrium/server.toml "),
        "/etc/atrium/server.toml is not recorded as a conffile:\n{text}"
    );
    Ok(())
}

fn check_unit(fresh: &Path) -> Result<()> {
    // The root holds no systemd: the unit's implicit dependencies (sysinit.target, …) come
    // from the host's target units, copied beside it.
    let units = fresh.join("usr/lib/systemd/system");
    for dir in ["/usr/lib/systemd/system", "/lib/systemd/system"] {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let dest = units.join(entry.file_name());
            if path.extension().is_some_and(|e| e == "target") && !dest.exists() {
                std::fs::copy(&path, &dest)?;
            }
        }
    }
    // Likewise the base system's programs the unit runs (`/bin/kill` for ExecReload=); the
    // package's own (ExecStart=) must be there already.
    let unit = std::fs::read_to_string(units.join("atrium-server.service"))?;
    for line in unit.lines().filter(|l| l.starts_with("Exec")) {
        let Some(program) = line
            .split_once('=')
            .and_then(|(_, c)| c.split_whitespace().next())
        else {
            continue;
        };
        let inside = fresh.join(program.trim_start_matches('/'));
        if !program.contains("atrium") && !inside.exists() {
            if let Some(parent) = inside.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::copy(program, &inside)
                .with_context(|| format!("the host has no {program}, which the unit runs"))?;
        }
    }
    let root_arg = format!("--root={}", fresh.display());
    // --root resolves ExecStart= and the unit's other paths inside the fresh root.
    let out = Command::new("systemd-analyze")
        .args(["verify", &root_arg, "atrium-server.service"])
        .output()
        .context("cannot run systemd-analyze")?;
    let complaints = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() || complaints.contains("atrium-server") {
        bail!("systemd-analyze verify atrium-server.service:\n{complaints}");
    }
    let out = Command::new("systemd-analyze")
        .args([
            "security",
            "--offline=yes",
            &root_arg,
            "--no-pager",
            "atrium-server.service",
        ])
        .output()
        .context("cannot run systemd-analyze security")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let exposure = text
        .lines()
        .find_map(|l| l.split_once("Overall exposure level for atrium-server.service: "))
        .and_then(|(_, rest)| rest.split_whitespace().next()?.parse::<f64>().ok())
        .with_context(|| {
            format!(
                "systemd-analyze security gave no exposure level:\n{text}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        })?;
    eprintln!(
        "xtask: systemd-analyze security rates atrium-server.service {exposure} (0 best, 10 worst)"
    );
    ensure!(
        exposure <= MAX_EXPOSURE,
        "the unit's sandboxing got weaker: exposure {exposure} > {MAX_EXPOSURE}\n{text}"
    );
    Ok(())
}

fn check_desktop_entry(fresh: &Path) -> Result<()> {
    let entry = fresh.join("usr/share/applications/atrium.desktop");
    crate::run(Command::new("desktop-file-validate").arg(&entry))?;
    let text = std::fs::read_to_string(&entry)?;
    let value = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(str::trim)
    };
    let mime = value("MimeType").unwrap_or_default();
    ensure!(
        mime.split(';').any(|m| m == "x-scheme-handler/atrium"),
        "the desktop entry does not handle atrium:// (MimeType={mime})"
    );
    // %u: the link that opened the app is passed to it.
    let exec = value("Exec").unwrap_or_default();
    let mut words = exec.split_whitespace();
    let program = words.next().unwrap_or_default();
    ensure!(
        words.any(|w| w == "%u"),
        "Exec={exec} does not pass the atrium:// link (%u)"
    );
    ensure!(
        fresh.join("usr/bin").join(program).is_file(),
        "Exec={exec} names no installed program"
    );
    Ok(())
}

fn check_server_binary(fresh: &Path) -> Result<()> {
    let server = fresh.join("usr/bin/atrium-server");
    let out = Command::new(&server)
        .arg("--version")
        .output()
        .context("cannot run the installed atrium-server")?;
    let version = String::from_utf8_lossy(&out.stdout);
    ensure!(
        out.status.success() && version.trim() == format!("atrium-server {}", super::VERSION),
        "the installed atrium-server --version said {version:?}"
    );
    // The real parser accepts the packaged config file (it refuses unknown keys).
    let out = Command::new(&server)
        .arg("--config")
        .arg(fresh.join("etc/atrium/server.toml"))
        .arg("--db")
        .arg(fresh.join("var/lib/atrium/atrium.db"))
        .arg("migrate")
        .env_remove("ATRIUM_CONFIG")
        .env_remove("ATRIUM_DB")
        .env("RUST_LOG", "warn")
        .output()
        .context("cannot run the installed atrium-server")?;
    ensure!(
        out.status.success(),
        "the installed server refused its packaged config: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// Deletes the install root however the checks end: disk is tight.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
