//! Why a stage failed: one type for every stage, so the probe, the checks that run a
//! stage of their own (TLS 1.2, proxy tunnel, MSOID, resolvers) and the findings all read
//! failures the same way.

use crate::model::{Cause, HttpInfo, StageName, TlsInfo};

/// A classified failure of one stage.
#[derive(Debug, Clone, PartialEq)]
pub struct StageFailure {
    /// The stage that saw it.
    pub stage: StageName,
    pub cause: Cause,
    /// Plain words for the row ("connection refused by 203.0.113.7:443").
    pub detail: String,
    /// The lower-level error as the library or the OS gave it, for the detail view.
    pub raw: String,
    /// The HTTP answer, when one came (a proxy's 407, a block page). Boxed, like the TLS
    /// facts, to keep the `Err` side of every stage small.
    pub http: Option<Box<HttpInfo>>,
    /// What was seen of the TLS handshake (the presented chain), when it started.
    pub tls: Option<Box<TlsInfo>>,
}

impl StageFailure {
    /// A failure whose raw error is its detail.
    pub fn new(stage: StageName, cause: Cause, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        Self {
            stage,
            cause,
            raw: detail.clone(),
            detail,
            http: None,
            tls: None,
        }
    }

    /// Sets the lower-level error.
    pub fn with_raw(mut self, raw: impl Into<String>) -> Self {
        self.raw = raw.into();
        self
    }

    /// Attaches the HTTP answer that showed the failure.
    pub fn with_http(mut self, info: Option<HttpInfo>) -> Self {
        self.http = info.map(Box::new);
        self
    }

    /// The address a connection failure names ("connection reset by 10.0.0.1:443"), or
    /// "the server" when the detail names none.
    pub fn raw_addr(&self) -> String {
        self.detail
            .rsplit(' ')
            .next()
            .filter(|w| w.parse::<std::net::SocketAddr>().is_ok())
            .unwrap_or("the server")
            .to_string()
    }

    /// Attaches what was seen of the handshake.
    pub fn with_tls(mut self, info: TlsInfo) -> Self {
        self.tls = Some(Box::new(info));
        self
    }
}
