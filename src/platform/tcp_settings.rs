//! How long this machine's TCP waits on a connection attempt nobody answers: the initial
//! retransmission timeout and the number of SYN retransmissions.
//!
//! A black-holed address costs a client `initial RTO × (2^(n+1) − 1)` for `n` SYN
//! retransmissions before it moves on to the next address (3 s and 2 on Windows by
//! default: 21 s). The IPv6 finding states that cost from the machine's own settings
//! rather than a number written here, because the settings differ between machines
//! (see docs: activation-ipv6-service.md section 2).

use std::path::Path;

/// The SYN retry settings of this machine, and where they were read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynSettings {
    pub initial_rto_ms: u64,
    pub syn_retries: u32,
    /// Where the figures come from, for the finding's text.
    pub source: String,
}

impl SynSettings {
    /// How long a connection attempt to an address that never answers lasts.
    pub fn blackhole_ms(&self) -> u64 {
        let factor = (1u64 << (self.syn_retries.min(20) + 1)) - 1;
        self.initial_rto_ms.saturating_mul(factor)
    }

    /// "about 21 s per unanswered address (initial RTO 3000 ms, 2 SYN retransmissions: ...)".
    pub fn describe(&self) -> String {
        format!(
            "about {:.0} s per unanswered address on this machine (initial RTO {} ms, {} SYN retransmissions; {})",
            self.blackhole_ms() as f64 / 1000.0,
            self.initial_rto_ms,
            self.syn_retries,
            self.source
        )
    }
}

/// The settings of this machine; `None` where they cannot be read.
pub fn syn_settings() -> Option<SynSettings> {
    if cfg!(target_os = "linux") {
        return linux(Path::new("/"));
    }
    #[cfg(windows)]
    {
        use super::windows::registry::{read_key, Hive, View};
        let key = read_key(
            &View::system(),
            Hive::LocalMachine,
            r"SYSTEM\CurrentControlSet\Services\Tcpip\Parameters",
        );
        return windows(
            key.value("TcpInitialRTT").and_then(|v| v.as_number()),
            key.value("TcpMaxConnectRetransmissions")
                .and_then(|v| v.as_number()),
        );
    }
    #[allow(unreachable_code)]
    None
}

/// Linux: `net.ipv4.tcp_syn_retries` (it applies to IPv6 too) under `root`; the initial
/// RTO is the kernel's constant of one second (`TCP_TIMEOUT_INIT`), not a setting.
pub fn linux(root: &Path) -> Option<SynSettings> {
    let path = root.join("proc/sys/net/ipv4/tcp_syn_retries");
    let retries: u32 = std::fs::read_to_string(&path).ok()?.trim().parse().ok()?;
    Some(SynSettings {
        initial_rto_ms: 1000,
        syn_retries: retries,
        source: "Linux: net.ipv4.tcp_syn_retries, initial RTO 1 s".into(),
    })
}

/// Windows: `TcpInitialRTT` (seconds) and `TcpMaxConnectRetransmissions` under
/// `HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters` when set, else Windows'
/// documented defaults (3 s, 2), said so.
pub fn windows(initial_rtt_secs: Option<u32>, retransmissions: Option<u32>) -> Option<SynSettings> {
    let source = match (initial_rtt_secs, retransmissions) {
        (None, None) => "Windows defaults; the Tcpip registry values are not set".to_string(),
        _ => r"HKLM\SYSTEM\CurrentControlSet\Services\Tcpip\Parameters".to_string(),
    };
    Some(SynSettings {
        initial_rto_ms: u64::from(initial_rtt_secs.unwrap_or(3)) * 1000,
        syn_retries: retransmissions.unwrap_or(2),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_reads_syn_retries_from_proc() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("proc/sys/net/ipv4");
        std::fs::create_dir_all(&p).unwrap();
        std::fs::write(p.join("tcp_syn_retries"), "6\n").unwrap();
        let s = linux(dir.path()).unwrap();
        assert_eq!((s.initial_rto_ms, s.syn_retries), (1000, 6));
        assert_eq!(s.blackhole_ms(), 127_000, "1+2+4+8+16+32+64 s");
        std::fs::write(p.join("tcp_syn_retries"), "2\n").unwrap();
        assert_eq!(linux(dir.path()).unwrap().blackhole_ms(), 7_000);
        assert!(linux(&dir.path().join("absent")).is_none());
    }

    #[test]
    fn windows_defaults_give_21_seconds_and_values_override_them() {
        let d = windows(None, None).unwrap();
        assert_eq!(d.blackhole_ms(), 21_000);
        assert!(d.describe().starts_with("about 21 s"), "{}", d.describe());
        assert!(d.source.contains("defaults"));
        let set = windows(Some(1), Some(2)).unwrap();
        assert_eq!(set.blackhole_ms(), 7_000);
        assert!(set.source.contains("Tcpip"));
    }
}
