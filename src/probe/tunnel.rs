//! The tunnel through an HTTP proxy: `CONNECT host:443`, between the `tcp` stage (the
//! connection to the proxy) and the `tls` stage, which then runs end to end through the
//! tunnel so an inspecting proxy is still seen by the certificate it presents.
//!
//! A failure to reach or talk to the proxy belongs to the `tcp` stage; an answer from the
//! proxy that is not "200" (407 credentials wanted, 403 block) to the `http` stage.

use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::http::{answered_by, asks_for, info_of};
use super::StageFailure;
use crate::http::{self as wire, Request};
use crate::model::{Cause, HttpInfo, StageName};
use crate::route::{ProxyAuth, ProxyServer};

/// Asks the proxy on `stream` for a tunnel to `host:port` and reads its answer. On success
/// the stream carries the tunnel and nothing of the endpoint's bytes has been read.
pub async fn connect(
    stream: &mut TcpStream,
    proxy: &ProxyServer,
    auth: Option<&ProxyAuth>,
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<(), StageFailure> {
    let mut request = Request::connect(format!("{host}:{port}"));
    if let Some(a) = auth {
        request = request.header("Proxy-Authorization", a.header_value());
    }
    let exchange = async {
        stream.write_all(&request.to_bytes()).await?;
        wire::read_head_exact(stream).await
    };
    let head = match tokio::time::timeout(timeout, exchange).await {
        Err(_) => {
            return Err(StageFailure::new(
                StageName::Http,
                Cause::HttpTimeout,
                format!(
                    "proxy {proxy} did not answer CONNECT {host}:{port} within {:.1} s",
                    timeout.as_secs_f64()
                ),
            ))
        }
        Ok(Err(e)) => {
            let (stage, cause) = match e.kind() {
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted => {
                    (StageName::Tcp, Cause::TcpReset)
                }
                _ => (StageName::Http, Cause::HttpProtocol),
            };
            return Err(StageFailure::new(
                stage,
                cause,
                format!("proxy {proxy} failed during CONNECT {host}:{port}: {e}"),
            ));
        }
        Ok(Ok(head)) => head,
    };
    let info = match wire::parse_response(&head) {
        Ok(Some((head, _))) => info_of(&head),
        _ => {
            return Err(StageFailure::new(
                StageName::Http,
                Cause::HttpProtocol,
                format!("proxy {proxy} answered CONNECT with something that is not HTTP"),
            ))
        }
    };
    judge(info, proxy, host, port)
}

/// What a proxy's answer to CONNECT means. Unlike an origin's answer, a 403 to CONNECT can
/// only come from the proxy: it is a block, whatever the page says.
fn judge(info: HttpInfo, proxy: &ProxyServer, host: &str, port: u16) -> Result<(), StageFailure> {
    let target = format!("{host}:{port}");
    let (cause, detail) = match info.status {
        200..=299 => return Ok(()),
        407 => (
            Cause::HttpProxyAuth,
            format!(
                "HTTP 407 from proxy {proxy}: it asks for {} (CONNECT {target})",
                asks_for(&info.proxy_authenticate)
            ),
        ),
        403 => {
            let by = answered_by(&info);
            (
                Cause::HttpBlocked,
                format!("HTTP 403 from proxy {proxy}{by}: it blocks the tunnel to {target}"),
            )
        }
        // Made by the proxy itself, whatever its headers: it could not reach the origin.
        502 => (
            Cause::HttpGateway,
            format!("HTTP 502 (bad gateway) from proxy {proxy}: it could not reach {target}"),
        ),
        504 => (
            Cause::HttpGateway,
            format!("HTTP 504 (gateway timeout) from proxy {proxy}: it timed out reaching {target}"),
        ),
        s => (
            Cause::Other,
            format!("HTTP {s} from proxy {proxy}: it could not open a tunnel to {target}"),
        ),
    };
    Err(StageFailure::new(StageName::Http, cause, detail).with_http(Some(info)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_answers_are_classified() {
        let proxy = ProxyServer {
            host: "127.0.0.1".into(),
            port: 3128,
        };
        let info = |status, via: Option<&str>| HttpInfo {
            status,
            server: None,
            via: via.map(Into::into),
            date: None,
            proxy_authenticate: Vec::new(),
        };
        assert!(judge(info(200, None), &proxy, "a", 443).is_ok());
        let e = judge(info(407, None), &proxy, "a", 443).unwrap_err();
        assert_eq!(e.cause, Cause::HttpProxyAuth);
        assert!(e.detail.contains("127.0.0.1:3128"), "{}", e.detail);
        assert!(e.detail.contains("asks for credentials"), "{}", e.detail);
        let negotiate = HttpInfo {
            proxy_authenticate: vec!["Negotiate".into()],
            ..info(407, None)
        };
        let e = judge(negotiate, &proxy, "a", 443).unwrap_err();
        assert_eq!(e.cause, Cause::HttpProxyAuth);
        assert_eq!(
            e.detail,
            "HTTP 407 from proxy 127.0.0.1:3128: it asks for Negotiate (Kerberos/Windows) credentials (CONNECT a:443)"
        );
        assert_eq!(e.http.unwrap().proxy_authenticate, ["Negotiate"]);
        let e = judge(info(403, Some("1.1 swg")), &proxy, "a", 443).unwrap_err();
        assert_eq!(e.cause, Cause::HttpBlocked);
        assert!(e.detail.contains("swg"));
        for status in [502, 504] {
            let e = judge(info(status, None), &proxy, "a", 443).unwrap_err();
            assert_eq!(e.cause, Cause::HttpGateway, "{status}");
            assert!(e.detail.contains("from proxy 127.0.0.1:3128"), "{}", e.detail);
        }
        assert_eq!(
            judge(info(500, None), &proxy, "a", 443).unwrap_err().cause,
            Cause::Other
        );
    }
}
