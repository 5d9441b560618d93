//! The floor of `cargo xtask bench`: a minimal warp server answering `GET /api/username` with
//! static JSON — what the HTTP stack alone can do on this machine, measured beside Atrium.
//!
//! `cargo run --release -p atrium-server --example floor -- 127.0.0.1:8200`

use warp::Filter;

#[tokio::main]
async fn main() {
    let addr: std::net::SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8200".into())
        .parse()
        .expect("usage: floor HOST:PORT");
    let route = warp::path!("api" / "username")
        .and(warp::get())
        .map(|| warp::reply::json(&serde_json::json!({ "username": "floor" })));
    let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
    warp::serve(route).incoming(listener).run().await;
}
