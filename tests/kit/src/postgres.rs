//! A PostgreSQL database of its own for each test that needs one, created on the test server
//! and dropped after. The server is `PARLEY_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable`); without one the tests say so
//! in one line and pass, unless `PARLEY_REQUIRE_POSTGRES=1` (as in CI), where they fail.

use std::sync::Once;

use rand::RngCore;

const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable";

/// The test server's URL, for administration (its maintenance database).
pub fn server() -> String {
    std::env::var("PARLEY_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_SERVER.to_owned())
}

fn required() -> bool {
    std::env::var("PARLEY_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// A database made for one test, dropped (with whatever connections remain) when dropped.
pub struct ScratchDatabase {
    name: String,
}

impl ScratchDatabase {
    /// Takes the database away from its clients (`false`: new connections refused, open ones
    /// cut), or gives it back (`true`), as an outage or a restart would.
    pub async fn set_reachable(&self, reachable: bool) {
        let (admin, connection) = tokio_postgres::connect(&server(), tokio_postgres::NoTls)
            .await
            .expect("the test server answers its administrator");
        tokio::spawn(connection);
        let allow = format!("ALTER DATABASE {} ALLOW_CONNECTIONS {reachable}", self.name);
        admin
            .batch_execute(&allow)
            .await
            .expect("the test server lets us close a database");
        if !reachable {
            admin
                .execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                    &[&self.name],
                )
                .await
                .expect("the test server lets us cut connections");
        }
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        // Drop runs outside any runtime the test may still be tearing down.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let (client, connection) =
                    tokio_postgres::connect(&server(), tokio_postgres::NoTls)
                        .await
                        .ok()?;
                tokio::spawn(connection);
                client.batch_execute(&sql).await.ok()
            })
        })
        .join();
    }
}

/// A fresh, empty database on the test server and its URL; `None` (said once) if there is
/// no server and none is required.
pub async fn scratch_database() -> Option<(String, ScratchDatabase)> {
    static SAID: Once = Once::new();
    let admin = server();
    let connected = tokio_postgres::connect(&admin, tokio_postgres::NoTls).await;
    let (client, connection) = match connected {
        Ok(pair) => pair,
        Err(error) if !required() => {
            SAID.call_once(|| {
                eprintln!(
                    "PostgreSQL tests skipped: no server at {admin} ({error}); \
                     set PARLEY_TEST_POSTGRES, or PARLEY_REQUIRE_POSTGRES=1 to fail instead"
                );
            });
            return None;
        }
        Err(error) => panic!("PARLEY_REQUIRE_POSTGRES=1 but no server at {admin}: {error}"),
    };
    tokio::spawn(connection);
    let mut suffix = [0u8; 8];
    rand::thread_rng().fill_bytes(&mut suffix);
    let name = format!("parley_test_{}", hex::encode(suffix));
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("the test server lets us create a database");
    let (path, query) = admin.split_once('?').unwrap_or((&admin, ""));
    let url = match (path.rsplit_once('/'), query) {
        (Some((base, _)), "") => format!("{base}/{name}"),
        (Some((base, _)), query) => format!("{base}/{name}?{query}"),
        (None, _) => panic!("PARLEY_TEST_POSTGRES has no database part: {admin}"),
    };
    Some((url, ScratchDatabase { name }))
}
