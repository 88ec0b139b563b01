//! Resource limits a process sets on itself: the PAC worker (`m365mon pac-worker`) caps
//! the memory a PAC script can take before it runs any of it.
//!
//! Linux enforces `RLIMIT_DATA` on the private writable memory of a process (heap, `mmap`ed
//! allocations, thread stacks made since), which is what a runaway script grows; mapped
//! code and shared libraries do not count, so the cap measures the script and not the
//! size of the binary (`RLIMIT_AS` would). The limit is set above what the process already
//! uses, so "64 MiB" means 64 MiB for the script. Windows: the process puts itself in a
//! Job object with a per-process commit limit (`extra` plus [`WINDOWS_START`] for what the
//! worker commits before the script runs). macOS does not enforce `RLIMIT_DATA` on `mmap`:
//! there no cap is set and the caller says so (the wall-clock limit applies everywhere).
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
    #[cfg(windows)]
    {
        use windows_sys::Win32::System::JobObjects::{
            AssignProcessToJobObject, CreateJobObjectW, JobObjectExtendedLimitInformation,
            SetInformationJobObject, JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JOB_OBJECT_LIMIT_PROCESS_MEMORY,
        };
        use windows_sys::Win32::System::Threading::GetCurrentProcess;
        let limit = extra.saturating_add(WINDOWS_START);
        let mut info = JOBOBJECT_EXTENDED_LIMIT_INFORMATION::default();
        info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_PROCESS_MEMORY;
        info.ProcessMemoryLimit = usize::try_from(limit).unwrap_or(usize::MAX);
        let last = || std::io::Error::last_os_error();
        // SAFETY: plain Win32 calls on a job handle we create; `info` outlives the call that
        // reads it, and its size is passed with it. The handle stays open (the job must
        // live as long as this process).
        unsafe {
            let job = CreateJobObjectW(std::ptr::null(), std::ptr::null());
            if job.is_null() {
                return Err(format!("CreateJobObjectW: {}", last()));
            }
            let size = std::mem::size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32;
            let info_ptr = (&info as *const JOBOBJECT_EXTENDED_LIMIT_INFORMATION).cast();
            if SetInformationJobObject(job, JobObjectExtendedLimitInformation, info_ptr, size) == 0 {
                return Err(format!("SetInformationJobObject: {}", last()));
            }
            if AssignProcessToJobObject(job, GetCurrentProcess()) == 0 {
                return Err(format!("AssignProcessToJobObject: {}", last()));
            }
        }
        Ok(limit)
    }
    #[cfg(not(any(target_os = "linux", windows)))]
    {
        let _ = extra;
        Err(format!("no memory cap on {}", std::env::consts::OS))
    }
}

/// Room for what the worker commits before the script runs, on Windows: an estimate, not
/// measured there (on Linux the worker's own data is ≈ 12 MiB at that point). The Job
/// object's limit is this plus the script's allowance.
#[cfg(windows)]
const WINDOWS_START: u64 = 32 * 1024 * 1024;

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
