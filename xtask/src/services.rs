//! The services the tests use beside the code, prepared once per `cargo xtask test`:
//!
//! - **PostgreSQL**, the second storage backend: Debian's cluster, started the way an operator
//!   starts it (`pg_ctlcluster`), a role that may create databases and one database the tests
//!   make throwaway schemas in. Its URL reaches the tests as `ATRIUM_TEST_POSTGRES_URL`; one
//!   already set (another server) is used as it is.
//! - **Python with Authlib**, a relying party from another ecosystem for the OpenID Connect
//!   interop test: a virtual environment in `target/interop-venv` with the pinned
//!   `server/tests/interop/requirements.txt`, reaching the tests as `ATRIUM_TEST_PYTHON`.
//!
//! As root both are installed and started here; otherwise the exact commands are printed and the
//! tests that need them say they were skipped (under `CI=true` they fail instead).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

use crate::preflight;

/// The role, password and database of the test cluster: loopback only, test data only.
const POSTGRES_URL: &str = "postgres://atrium:atrium@127.0.0.1:5432/atrium_test";

/// The environment the test run gets.
pub fn ensure(root: &Path) -> Result<Vec<(&'static str, String)>> {
    let mut env = Vec::new();
    match postgres() {
        Ok(url) => env.push(("ATRIUM_TEST_POSTGRES_URL", url)),
        Err(e) => eprintln!("xtask: PostgreSQL is not available, its tests will be skipped: {e:#}"),
    }
    match python(root) {
        Ok(python) => env.push(("ATRIUM_TEST_PYTHON", python.display().to_string())),
        Err(e) => eprintln!(
            "xtask: Python with Authlib is not available, its test will be skipped: {e:#}"
        ),
    }
    Ok(env)
}

fn postgres() -> Result<String> {
    if let Ok(url) = std::env::var("ATRIUM_TEST_POSTGRES_URL") {
        return Ok(url);
    }
    if !preflight::is_root() {
        bail!(
            "as root, `cargo xtask test` starts one; or set ATRIUM_TEST_POSTGRES_URL to a database \
             whose role may create schemas"
        );
    }
    local_postgres("atrium_test")?;
    Ok(POSTGRES_URL.into())
}

/// The URL of the database `database` (a fixed name of xtask's, never user input) on the
/// local cluster, owned by the role `atrium`: as root, PostgreSQL is installed, its cluster
/// started and the role and database created if missing (what `cargo xtask test` does for
/// its test database; `demo --postgres` and `bench --backend postgres` use one of their own).
pub fn local_postgres(database: &str) -> Result<String> {
    if !preflight::is_root() {
        bail!(
            "as root, xtask installs and starts PostgreSQL; otherwise start a cluster yourself \
             (apt-get install postgresql; pg_ctlcluster VERSION main start) and create the role \
             and database: CREATE ROLE atrium LOGIN CREATEDB PASSWORD 'atrium'; CREATE \
             DATABASE {database} OWNER atrium"
        );
    }
    preflight::ensure_packages(&["postgresql"])?;
    let clusters = output(Command::new("pg_lsclusters").arg("--no-header"))?;
    let cluster: Vec<String> = match clusters.lines().next() {
        Some(line) => line
            .split_whitespace()
            .take(2)
            .map(str::to_string)
            .collect(),
        None => {
            let version = std::fs::read_dir("/usr/lib/postgresql")?
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .max_by_key(|v| v.parse::<u32>().unwrap_or(0))
                .context("no PostgreSQL in /usr/lib/postgresql")?;
            crate::run(&mut as_postgres(&["pg_createcluster", &version, "main"]))?;
            vec![version, "main".into()]
        }
    };
    // Starting a started cluster fails; its status then says it is online.
    let started = Command::new("pg_ctlcluster")
        .args(&cluster)
        .arg("start")
        .stderr(Stdio::null())
        .status()?
        .success();
    if !started {
        crate::run(Command::new("pg_ctlcluster").args(&cluster).arg("status"))
            .context("the PostgreSQL cluster does not start")?;
    }
    let sql = format!(
        "SELECT 'CREATE ROLE atrium LOGIN CREATEDB PASSWORD ''atrium''' \
         WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'atrium') \\gexec\n\
         SELECT 'CREATE DATABASE {database} OWNER atrium' \
         WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{database}') \\gexec\n"
    );
    let mut psql = as_postgres(&["psql", "-q", "-v", "ON_ERROR_STOP=1"]);
    let mut child = psql.stdin(Stdio::piped()).spawn()?;
    std::io::Write::write_all(
        &mut child.stdin.take().context("psql's stdin")?,
        sql.as_bytes(),
    )?;
    if !child.wait()?.success() {
        bail!("psql could not create the role atrium and the database {database}");
    }
    Ok(POSTGRES_URL.replace("atrium_test", database))
}

fn as_postgres(args: &[&str]) -> Command {
    let mut c = Command::new("runuser");
    c.args(["-u", "postgres", "--"]).args(args);
    c
}

fn python(root: &Path) -> Result<PathBuf> {
    let venv = root.join("target/interop-venv");
    let python = venv.join("bin/python");
    let requirements = root.join("server/tests/interop/requirements.txt");
    let ready = || {
        Command::new(&python)
            .args(["-c", "import authlib, requests"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if ready() {
        return Ok(python);
    }
    preflight::ensure_packages(&["python3-venv"])?;
    crate::run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    crate::run(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&requirements),
    )
    .context("pip could not install the interop test's requirements (PyPI)")?;
    if !ready() {
        bail!(
            "the virtual environment in {} has no Authlib",
            venv.display()
        );
    }
    Ok(python)
}

fn output(c: &mut Command) -> Result<String> {
    let out = c.output().with_context(|| format!("running {c:?}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
