//! For tests: a throwaway schema in the test database named by [`URL_VAR`].
//!
//! Each test gets a schema of its own (`CREATE SCHEMA` with a random name, every pooled
//! connection's `search_path` set to it by the URL's `options`), dropped when the [`Schema`]
//! guard is (after ending the connections still open on it). Schemas rather than databases: creating one is a catalog insert (milliseconds),
//! where `CREATE DATABASE` copies a template and serializes on it, and tests run in parallel.

use super::{PgError, PostgresStore};

/// The variable that names the test database, e.g.
/// `postgres://atrium:atrium@127.0.0.1:5432/atrium_test`.
pub const URL_VAR: &str = "ATRIUM_TEST_POSTGRES_URL";

/// The test database's URL. Unset: under `CI=true` that is a failure (the tests must run
/// there), otherwise `None` and a note on how to run them.
pub fn url() -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{URL_VAR} is not set under CI=true: .ci/run starts PostgreSQL and sets it")
        }
        _ => {
            eprintln!(
                "skipped: PostgreSQL tests need {URL_VAR}=postgres://USER:PASSWORD@HOST/DB \
                 (a role that may create schemas there; .ci/run sets one up)"
            );
            None
        }
    }
}

/// A schema made for one test, dropped with this guard.
pub struct Schema {
    base: String,
    name: String,
}

impl Schema {
    /// Makes a schema with a random name in the database at `base`.
    pub async fn create(base: &str) -> Result<Schema, PgError> {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).map_err(|e| PgError::Url(e.to_string()))?;
        let name = format!("atrium_test_{}", hex::encode(bytes));
        let (client, connection) = super::parse_url(base)?
            .connect(tokio_postgres::NoTls)
            .await?;
        let driver = tokio::spawn(connection);
        client
            .batch_execute(&format!("CREATE SCHEMA {name}"))
            .await?;
        drop(client);
        let _ = driver.await;
        Ok(Schema {
            base: base.to_string(),
            name,
        })
    }

    /// The schema's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The database URL with this schema as every connection's `search_path` (and the
    /// schema's name as their `application_name`, by which the guard finds them): what `--db`
    /// takes.
    pub fn url(&self) -> String {
        let sep = if self.base.contains('?') { '&' } else { '?' };
        format!(
            "{}{sep}options=-csearch_path%3D{name}&application_name={name}",
            self.base,
            name = self.name
        )
    }

    /// [`Schema::url`], parsed.
    pub fn config(&self) -> Result<tokio_postgres::Config, PgError> {
        let mut config = super::parse_url(&self.base)?;
        config.options(format!("-c search_path={}", self.name));
        config.application_name(&self.name);
        Ok(config)
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let (base, name) = (self.base.clone(), self.name.clone());
        // Drop runs inside the test's runtime, which cannot be blocked on: a thread of its own
        // with a small runtime drops the schema, and the test waits for it.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let (client, connection) = super::parse_url(&base)
                    .ok()?
                    .connect(tokio_postgres::NoTls)
                    .await
                    .ok()?;
                tokio::spawn(connection);
                // A server still running in the test's runtime (which this drop blocks) may
                // hold locks in a transaction it cannot finish: end its connections first.
                client
                    .execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                         WHERE application_name = $1 AND pid <> pg_backend_pid()",
                        &[&name],
                    )
                    .await
                    .ok()?;
                client
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS {name} CASCADE"))
                    .await
                    .ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("could not drop the test schema {}", self.name);
        }
    }
}

/// A store in a fresh schema of the test database, or `None` when there is none to use
/// (see [`url`]).
pub async fn fresh_store() -> Option<(Schema, PostgresStore)> {
    let base = url()?;
    let schema = Schema::create(&base).await.expect("a test schema");
    let store = PostgresStore::connect(schema.config().expect("a test URL"))
        .await
        .expect("a PostgreSQL store");
    Some((schema, store))
}
