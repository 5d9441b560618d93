//! One Debian binary package: a staging tree under `target/dist/build/debian/NAME` (the
//! layout `dpkg-shlibdeps` expects), its control files, then `dpkg-deb --build`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// Who answers for the packages. Set to a real address before publishing them.
const MAINTAINER: &str = "Atrium maintainers <atrium@localhost>";

pub struct Package {
    name: &'static str,
    section: &'static str,
    summary: &'static str,
    description: &'static str,
    dir: PathBuf,
    conffiles: Vec<&'static str>,
    /// Depends beyond the shared libraries the binaries link.
    extra_depends: Vec<&'static str>,
}

/// The host's Debian architecture (`amd64`, `arm64`, …).
pub fn architecture() -> Result<String> {
    let out = Command::new("dpkg")
        .arg("--print-architecture")
        .output()
        .context("cannot run dpkg --print-architecture")?;
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Drops a binary's symbols and debug info (as Debian's dh_strip does): a fraction of the size,
/// and for the debug binaries of the test run, far less to compress.
pub fn strip(file: &Path) -> Result<()> {
    crate::run(Command::new("strip").arg("--strip-all").arg(file))
}

impl Package {
    pub fn new(
        work: &Path,
        name: &'static str,
        section: &'static str,
        summary: &'static str,
        description: &'static str,
    ) -> Result<Package> {
        let dir = work.join("debian").join(name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(dir.join("DEBIAN"))?;
        Ok(Package {
            name,
            section,
            summary,
            description,
            dir,
            conffiles: Vec::new(),
            extra_depends: Vec::new(),
        })
    }

    /// Copies `from` to `to` (relative to the installed root); returns the staged path.
    pub fn install(&self, from: &Path, to: &str, mode: u32) -> Result<PathBuf> {
        let dest = self.dir.join(to);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(from, &dest)
            .with_context(|| format!("cannot copy {} to {}", from.display(), dest.display()))?;
        set_mode(&dest, mode)?;
        Ok(dest)
    }

    /// Writes `text` to `to` (relative to the installed root).
    pub fn write(&self, to: &str, text: &str, mode: u32) -> Result<()> {
        let dest = self.dir.join(to);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&dest, text)?;
        set_mode(&dest, mode)
    }

    /// Marks an installed file as a conffile: dpkg keeps the operator's edits on upgrade.
    pub fn conffile(&mut self, path: &'static str) {
        self.conffiles.push(path);
    }

    pub fn depend(&mut self, relation: &'static str) {
        self.extra_depends.push(relation);
    }

    /// A maintainer script (`postinst`, `prerm`, `postrm`).
    pub fn script(&self, name: &str, from: &Path) -> Result<()> {
        self.install(from, &format!("DEBIAN/{name}"), 0o755)?;
        Ok(())
    }

    /// Writes the control files and builds `out/NAME_VERSION_ARCH.deb`; `fast` compresses
    /// with gzip -1 instead of dpkg-deb's default xz (the test run's packages are thrown away).
    pub fn build(&self, work: &Path, out: &Path, arch: &str, fast: bool) -> Result<PathBuf> {
        if !self.conffiles.is_empty() {
            let list: String = self.conffiles.iter().map(|c| format!("{c}\n")).collect();
            std::fs::write(self.dir.join("DEBIAN/conffiles"), list)?;
        }
        let mut depends = self.shlib_depends(work)?;
        depends.extend(self.extra_depends.iter().map(|d| d.to_string()));
        let description: String = self
            .description
            .lines()
            .map(|l| format!(" {l}\n"))
            .collect();
        let control = format!(
            "Package: {name}\nVersion: {version}\nArchitecture: {arch}\nMaintainer: {MAINTAINER}\n\
             Installed-Size: {size}\nDepends: {depends}\nSection: {section}\nPriority: optional\n\
             Description: {summary}\n{description}",
            name = self.name,
            version = super::VERSION,
            size = dir_size(&self.dir)?.div_ceil(1024),
            depends = depends.join(", "),
            section = self.section,
            summary = self.summary,
        );
        std::fs::write(self.dir.join("DEBIAN/control"), control)?;
        let deb = out.join(format!("{}_{}_{arch}.deb", self.name, super::VERSION));
        // --root-owner-group: every file root:root without fakeroot.
        let mut cmd = Command::new("dpkg-deb");
        cmd.args(["--root-owner-group", "--build"]);
        if fast {
            cmd.args(["-Zgzip", "-z1"]);
        }
        crate::run(cmd.arg(&self.dir).arg(&deb))?;
        Ok(deb)
    }

    /// The libraries the package's binaries link, as package relations (`dpkg-shlibdeps`).
    fn shlib_depends(&self, work: &Path) -> Result<Vec<String>> {
        // dpkg-shlibdeps reads debian/control for the package list; one stanza per package.
        let control = work.join("debian/control");
        if !control.exists() {
            std::fs::write(
                &control,
                "Source: atrium\n\nPackage: atrium-server\nArchitecture: any\n\n\
                 Package: atrium\nArchitecture: any\n",
            )?;
        }
        let bins: Vec<PathBuf> = std::fs::read_dir(self.dir.join("usr/bin"))?
            .map(|e| {
                e.map(|e| {
                    Path::new("debian")
                        .join(self.name)
                        .join("usr/bin")
                        .join(e.file_name())
                })
            })
            .collect::<std::io::Result<_>>()?;
        let out = Command::new("dpkg-shlibdeps")
            .arg("-O")
            .args(&bins)
            .current_dir(work)
            .output()
            .context("cannot run dpkg-shlibdeps (apt-get install dpkg-dev)")?;
        if !out.status.success() {
            bail!(
                "dpkg-shlibdeps failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix("shlibs:Depends="))
            .unwrap_or_default();
        Ok(line
            .split(", ")
            .filter(|d| !d.is_empty())
            .map(str::to_owned)
            .collect())
    }
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot chmod {}", path.display()))
}

/// Bytes of the files under `dir`, its `DEBIAN` directory excepted.
fn dir_size(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name() == "DEBIAN" {
            continue;
        }
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_size(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}
