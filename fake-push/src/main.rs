//! `fake-push`: the fake push service as a process of its own, for tests
//! that do not run in Rust, such as the Playwright specs.
//!
//! It prints one line with its origin, serves the push endpoints and the
//! control API until SIGTERM or Ctrl-C, and prints a line per push to
//! standard error.

use std::net::SocketAddr;

use clap::Parser;
use fake_push::{FakePushService, Options};
use tokio::signal::unix::{SignalKind, signal};

/// A strict fake Web Push service on loopback, for tests.
#[derive(Parser)]
#[command(name = "fake-push")]
struct Args {
    /// The loopback address and port to bind; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:0", value_parser = parse_loopback)]
    listen: SocketAddr,
    /// Check the headers only: skip the decryption and the VAPID signature.
    #[arg(long)]
    fast: bool,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let options = Options {
        is_fast: args.fast,
        logs_pushes: true,
    };

    let service = FakePushService::listen(args.listen, options).await?;
    println!("fake-push is listening on {}", service.origin());

    let mut terminate = signal(SignalKind::terminate())?;
    tokio::select! {
        _ = terminate.recv() => {}
        interrupted = tokio::signal::ctrl_c() => interrupted?,
    }
    println!(
        "fake-push: stopping after {} accepted and {} refused pushes",
        service.accepted(),
        service.refused().len()
    );
    Ok(())
}

/// The control API lets anyone who reaches it read every payload, so the
/// service only listens on loopback.
fn parse_loopback(text: &str) -> Result<SocketAddr, String> {
    let address: SocketAddr = text
        .parse()
        .map_err(|_| format!("{text} is not an address and port"))?;
    if !address.ip().is_loopback() {
        return Err(format!("{text} is not a loopback address"));
    }
    Ok(address)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_addresses_are_taken() {
        assert!(parse_loopback("127.0.0.1:0").is_ok());
        assert!(parse_loopback("[::1]:8080").is_ok());
        assert!(parse_loopback("0.0.0.0:8080").is_err());
        assert!(parse_loopback("localhost").is_err());
    }
}
