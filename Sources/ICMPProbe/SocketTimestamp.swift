import Glibc

/// Kernel receive timestamps (SO_TIMESTAMPNS): the time a packet reached the stack, so a figure
/// does not grow while the reading thread waits for a CPU. CLOCK_REALTIME, as the kernel stamps.
public enum SocketTimestamp {
    /// SO_TIMESTAMPNS_OLD, which is also the cmsg type SCM_TIMESTAMPNS on 64-bit (a macro Swift cannot import).
    public static let option: Int32 = 35

    /// Turns receive timestamps on for `fd`; false if the kernel refused.
    @discardableResult
    public static func enable(_ fd: Int32) -> Bool {
        var one: Int32 = 1
        return setsockopt(fd, SOL_SOCKET, option, &one, socklen_t(MemoryLayout<Int32>.size)) == 0
    }

    /// Now on the clock the kernel stamps with.
    @inline(__always)
    public static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// The SCM_TIMESTAMPNS in a recvmsg control buffer of `length` bytes, if there is one.
    public static func fromControl(_ control: UnsafeRawPointer, length: Int) -> Int64? {
        let header = MemoryLayout<cmsghdr>.size
        var offset = 0
        while offset + header <= length {
            let c = control.loadUnaligned(fromByteOffset: offset, as: cmsghdr.self)
            let cmsgLength = Int(c.cmsg_len)
            guard cmsgLength >= header, offset + cmsgLength <= length else { return nil }
            if c.cmsg_level == SOL_SOCKET, c.cmsg_type == option, cmsgLength >= header + MemoryLayout<timespec>.size {
                let ts = control.loadUnaligned(fromByteOffset: offset + header, as: timespec.self)
                return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
            }
            offset += (cmsgLength + 7) & ~7
        }
        return nil
    }
}
