//! The load generator's HTTP client: one keep-alive HTTP/1.1 connection per
//! client, requests sent one after the other on it, bodies read in full.

use std::net::SocketAddr;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, ETAG, HOST, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// `Basic` credentials of the benchmark's user, `bench:bench`: any
/// `user:password` is a valid principal on the server.
const BASIC_AUTH: &str = "Basic YmVuY2g6YmVuY2g=";

/// The server under test and the headers every request carries.
#[derive(Clone)]
pub(super) struct Target {
    pub(super) address: SocketAddr,
    host: HeaderValue,
}

impl Target {
    pub(super) fn new(address: SocketAddr) -> anyhow::Result<Self> {
        let host = HeaderValue::try_from(address.to_string()).context("the Host header")?;
        Ok(Self { address, host })
    }

    /// A request for `path` (`/v1/...`) as the benchmark's user, with a JSON
    /// `body` when there is one.
    pub(super) fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> anyhow::Result<Request<Full<Bytes>>> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, self.host.clone())
            .header(AUTHORIZATION, HeaderValue::from_static(BASIC_AUTH));
        if body.is_some() {
            request = request.header(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        let body = Full::new(body.map(Bytes::from).unwrap_or_default());
        request
            .body(body)
            .with_context(|| format!("building the request for {path}"))
    }
}

/// What the load generator keeps of a response.
pub(super) struct Reply {
    pub(super) status: StatusCode,
    pub(super) etag: Option<HeaderValue>,
    pub(super) body: Bytes,
}

/// One keep-alive connection to the server.
pub(super) struct Connection {
    sender: SendRequest<Full<Bytes>>,
}

impl Connection {
    /// Connects to `target` and starts the connection's task on the current
    /// runtime.
    pub(super) async fn open(target: &Target) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(target.address)
            .await
            .with_context(|| format!("connecting to {}", target.address))?;
        // Requests are small and written whole: waiting to coalesce them only
        // adds latency.
        stream.set_nodelay(true).context("setting TCP_NODELAY")?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .context("starting an HTTP/1.1 connection")?;
        tokio::spawn(async move {
            // A broken connection also fails the request in flight, which
            // reports it; nothing more to say here.
            let _ = connection.await;
        });
        Ok(Self { sender })
    }

    /// Sends `request` and reads the whole response.
    pub(super) async fn send(&mut self, request: Request<Full<Bytes>>) -> anyhow::Result<Reply> {
        self.sender.ready().await.context("the connection closed")?;
        let response = self
            .sender
            .send_request(request)
            .await
            .context("sending the request")?;
        let status = response.status();
        let etag = response.headers().get(ETAG).cloned();
        let body = response
            .into_body()
            .collect()
            .await
            .context("reading the response body")?
            .to_bytes();
        Ok(Reply { status, etag, body })
    }
}
