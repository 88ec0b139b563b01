//! Resource limits a process sets on itself: the PAC worker (`m365mon pac-worker`) caps
//! the memory a PAC script can take before it runs any of it.
//!
//! Linux enforces `RLIMIT_DATA` on the private writable memory of a process (heap, `mmap`ed
//! allocations, thread stacks made since), which is what a runaway script grows; mapped
//! code and shared libraries do not count, so the cap measures the script and not the
//! size of the binary (`RLIMIT_AS` would). The limit is set above what the process already
//! uses, so "64 MiB" means 64 MiB for the script. Other systems: macOS does not enforce
//! `RLIMIT_DATA` on `mmap`, and Windows would need a Job object; there the cap is not set
//! and the caller says so (the wall-clock limit still applies everywhere).
#![allow(unsafe_code)]

/// Caps this process's private writable memory at what it uses now plus `extra` bytes.
/// `Ok` with the new limit in bytes, or why no cap could be set.
pub fn cap_private_memory(extra: u64) -> Result<u64, String> {
    #[cfg(target_os = "linux")]
    {
        let status =
            std::fs::read_to_string("/proc/self/status").map_err(|e| format!("/proc/self/status: {e}"))?;
        let in_use = vm_data_bytes(&status).ok_or("/proc/self/status has no VmData line")?;
        let limit = in_use.saturating_add(extra);
        let rl = libc::rlimit {
            rlim_cur: limit as libc::rlim_t,
            rlim_max: limit as libc::rlim_t,
        };
        // SAFETY: setrlimit reads the struct we pass and touches nothing else.
        let rc = unsafe { libc::setrlimit(libc::RLIMIT_DATA, &rl) };
        if rc != 0 {
            return Err(format!(
                "setrlimit(RLIMIT_DATA): {}",
                std::io::Error::last_os_error()
            ));
        }
        Ok(limit)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = extra;
        Err(format!("no memory cap on {}", std::env::consts::OS))
    }
}

/// `VmData` of `/proc/self/status` (in kB there), in bytes.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn vm_data_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmData:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_data_is_read_in_bytes() {
        let status = "Name:\tm365mon\nVmPeak:\t  100 kB\nVmData:\t    2048 kB\nVmStk:\t 132 kB\n";
        assert_eq!(vm_data_bytes(status), Some(2048 * 1024));
        assert_eq!(vm_data_bytes("Name: x\n"), None);
    }
}
