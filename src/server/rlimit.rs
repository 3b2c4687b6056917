//! Raising the open-file limit (SPEC §1): every connection is a file descriptor, and the
//! default soft limit (often 1024) is far below `--max-connections`.
//!
//! This is the crate's only `unsafe`: two libc calls, declared here rather than adding a
//! dependency outside the fixed set.
#![allow(unsafe_code)]

#[cfg(target_os = "linux")]
mod sys {
    #[repr(C)]
    pub struct RLimit {
        pub cur: u64,
        pub max: u64,
    }
    /// `RLIMIT_NOFILE` on Linux.
    pub const RLIMIT_NOFILE: i32 = 7;
    extern "C" {
        pub fn getrlimit(resource: i32, rlim: *mut RLimit) -> i32;
        pub fn setrlimit(resource: i32, rlim: *const RLimit) -> i32;
    }
}

/// Raises the soft descriptor limit to the hard limit; warns when `wanted` connections
/// still do not fit.
#[cfg(target_os = "linux")]
pub fn raise_nofile(wanted: usize) {
    let mut limit = sys::RLimit { cur: 0, max: 0 };
    // SAFETY: `limit` is a valid, writable `struct rlimit` (two u64 on Linux); the call
    // writes exactly that struct and nothing else.
    if unsafe { sys::getrlimit(sys::RLIMIT_NOFILE, &mut limit) } != 0 {
        log::warn!("getrlimit(RLIMIT_NOFILE) failed");
        return;
    }
    if limit.cur < limit.max {
        let raised = sys::RLimit { cur: limit.max, max: limit.max };
        // SAFETY: `raised` is a valid `struct rlimit` that the call only reads.
        if unsafe { sys::setrlimit(sys::RLIMIT_NOFILE, &raised) } == 0 {
            limit.cur = limit.max;
        } else {
            log::warn!("setrlimit(RLIMIT_NOFILE, {}) failed", limit.max);
        }
    }
    // A few descriptors go to the listener, the poller and std's own.
    if (wanted as u64).saturating_add(16) > limit.cur {
        log::warn!(
            "--max-connections {wanted} exceeds the open-file limit {}: accept will fail beyond it",
            limit.cur
        );
    }
}

#[cfg(not(target_os = "linux"))]
pub fn raise_nofile(_wanted: usize) {}
